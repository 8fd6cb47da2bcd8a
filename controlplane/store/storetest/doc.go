// Package storetest is the conformance suite for store.Store
// implementations.
//
// An implementation's test calls Run with a function that opens a fresh,
// empty store for one test:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := boltstore.Open(filepath.Join(t.TempDir(), "store.db"), boltstore.Options{HistoryLimit: 50})
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { _ = s.Close() })
//			return s
//		})
//	}
//
// The suite only uses the store.Store interface, waits for conditions with
// generous timeouts and never asserts speed. Close must be safe to call twice
// (the suite closes some stores itself). Two cases depend on limits the
// interface does not expose:
//
//   - Compaction writes until a watch from the first revision fails with
//     store.ErrCompacted, giving up after MaxCompactionWrites writes; open
//     should keep a short history (tens of events).
//   - Watch ordering reads with a prompt reader, but writers run ahead of it;
//     a watch buffer of at least OrderingEvents events makes the case
//     independent of scheduling.
package storetest
