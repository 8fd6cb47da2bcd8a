package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/weft-mesh/weft/controlplane/store"
)

// The file's layout.
var (
	bucketKV   = []byte("kv")   // key → kvRecord
	bucketLog  = []byte("log")  // revKey(rev) → eventRecord
	bucketMeta = []byte("meta") // metaRevision, metaCompacted, metaFormat

	metaRevision  = []byte("revision")  // revKey of the last write's revision
	metaCompacted = []byte("compacted") // revKey of the highest revision deleted from the log
	metaFormat    = []byte("format")    // formatVersion
)

const formatVersion = "1"

// errCorrupt marks records that cannot be decoded.
var errCorrupt = errors.New("corrupt record")

// revKey encodes a revision as a log key; big-endian keeps the log sorted by
// revision.
func revKey(rev int64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(rev))
	return b
}

func decodeRev(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("revision of %d bytes: %w", len(b), errCorrupt)
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// A kvRecord is createRevision(8) modRevision(8) value.
func encodeKV(kv store.KV) []byte {
	b := make([]byte, 16+len(kv.Value))
	binary.BigEndian.PutUint64(b, uint64(kv.CreateRevision))
	binary.BigEndian.PutUint64(b[8:], uint64(kv.ModRevision))
	copy(b[16:], kv.Value)
	return b
}

// decodeKV copies the value out of b, which belongs to the transaction.
func decodeKV(key string, b []byte) (store.KV, error) {
	if len(b) < 16 {
		return store.KV{}, fmt.Errorf("key %q: record of %d bytes: %w", key, len(b), errCorrupt)
	}
	return store.KV{
		Key:            key,
		Value:          append([]byte{}, b[16:]...),
		CreateRevision: int64(binary.BigEndian.Uint64(b)),
		ModRevision:    int64(binary.BigEndian.Uint64(b[8:])),
	}, nil
}

// An eventRecord is type(1) createRevision(8) len(key)(uvarint) key value.
// The event's ModRevision is its log key.
const (
	codeAdded    = 1
	codeModified = 2
	codeDeleted  = 3
)

func encodeEvent(t store.EventType, kv store.KV) []byte {
	b := make([]byte, 0, 1+8+binary.MaxVarintLen64+len(kv.Key)+len(kv.Value))
	var code byte
	switch t {
	case store.Added:
		code = codeAdded
	case store.Modified:
		code = codeModified
	case store.Deleted:
		code = codeDeleted
	}
	b = append(b, code)
	b = binary.BigEndian.AppendUint64(b, uint64(kv.CreateRevision))
	b = binary.AppendUvarint(b, uint64(len(kv.Key)))
	b = append(b, kv.Key...)
	return append(b, kv.Value...)
}

// eventHeader is an eventRecord split into its parts, still pointing into
// the transaction's memory.
type eventHeader struct {
	typ    store.EventType
	create int64
	key    []byte
	value  []byte
}

func parseEvent(b []byte) (eventHeader, error) {
	if len(b) < 9 {
		return eventHeader{}, fmt.Errorf("event of %d bytes: %w", len(b), errCorrupt)
	}
	var h eventHeader
	switch b[0] {
	case codeAdded:
		h.typ = store.Added
	case codeModified:
		h.typ = store.Modified
	case codeDeleted:
		h.typ = store.Deleted
	default:
		return eventHeader{}, fmt.Errorf("event type %d: %w", b[0], errCorrupt)
	}
	h.create = int64(binary.BigEndian.Uint64(b[1:]))
	n, w := binary.Uvarint(b[9:])
	if w <= 0 || n > uint64(len(b)-9-w) {
		return eventHeader{}, fmt.Errorf("event key length: %w", errCorrupt)
	}
	rest := b[9+w:]
	h.key, h.value = rest[:n], rest[n:]
	return h, nil
}

// hasPrefix reports whether the key starts with prefix without converting.
func (h eventHeader) hasPrefix(prefix string) bool {
	return len(h.key) >= len(prefix) && string(h.key[:len(prefix)]) == prefix
}

// event copies the header out of the transaction's memory.
func (h eventHeader) event(rev int64) store.Event {
	return store.Event{Type: h.typ, KV: store.KV{
		Key:            string(h.key),
		Value:          append([]byte{}, h.value...),
		CreateRevision: h.create,
		ModRevision:    rev,
	}}
}
