package apiserver

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/store"
)

// encode serialises an object for the store: storage version, no resourceVersion
// (the store's revision is the resourceVersion).
func encode(obj api.Object) ([]byte, error) {
	rv := obj.GetResourceVersion()
	obj.SetResourceVersion("")
	defer obj.SetResourceVersion(rv)
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return b, nil
}

// decode reads a stored object and sets its resourceVersion from the store.
func decode(k *api.Kind, kv store.KV) (api.Object, error) {
	obj := k.New(k.Version)
	if err := json.Unmarshal(kv.Value, obj); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
	}
	obj.SetResourceVersion(strconv.FormatInt(kv.ModRevision, 10))
	return obj, nil
}
