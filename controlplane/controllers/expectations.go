package controllers

import (
	"sync"
	"time"
)

// expectations remembers, per controller key, the objects a reconcile
// created or deleted that the watch cache has not shown yet (kube's
// ControllerExpectations, tracking names instead of counts). Until the
// cache catches up — or the expectations expire — a reconcile does not
// trust its count of the object's pods and does not create or delete more.
type expectations struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]*expected
}

type expected struct {
	adds, dels map[string]bool // object keys "ns/name"
	at         time.Time
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{ttl: 2 * time.Minute, now: now, m: map[string]*expected{}}
}

func (e *expectations) get(key string) *expected {
	x := e.m[key]
	if x == nil {
		x = &expected{adds: map[string]bool{}, dels: map[string]bool{}}
		e.m[key] = x
	}
	x.at = e.now()
	return x
}

// expectCreate records that key is about to create obj.
func (e *expectations) expectCreate(key, obj string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.get(key).adds[obj] = true
}

// expectDelete records that key is about to delete obj.
func (e *expectations) expectDelete(key, obj string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.get(key).dels[obj] = true
}

// created is called when the cache shows obj (or the create failed).
func (e *expectations) created(key, obj string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil {
		delete(x.adds, obj)
	}
}

// deleted is called when the cache loses obj (or the delete failed).
func (e *expectations) deleted(key, obj string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x := e.m[key]; x != nil {
		delete(x.dels, obj)
	}
}

// satisfied reports whether key has nothing outstanding (or waited too long).
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.m[key]
	if x == nil || len(x.adds)+len(x.dels) == 0 {
		return true
	}
	if e.now().Sub(x.at) > e.ttl {
		delete(e.m, key)
		return true
	}
	return false
}

// forget drops key (its object is gone).
func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
