package stacks

import (
	"errors"
	"maps"
	"slices"
	"strings"
)

// written is the presence record of one decoded document (a config section or the merged
// profile): the field paths it wrote, relative to its root (systemPool.maxNodes), and those
// it wrote empty. It is how llmserve tells unset from zero for every key: the one decoder
// fills it for every reader, so the typed config keeps plain fields and a key the user wrote
// is validated as written even where a default would have replaced its zero value. (Pointers
// for every field would have changed every type the embedding API and the lab build; only
// the three section numbers whose written 0 the llmserve command's typed Settings would drop,
// cluster.systemPool.minNodes/maxNodes and pool.diskSizeGb, became pointers.)
type written struct {
	keys, empty map[string]bool
}

func newWritten() *written { return &written{keys: map[string]bool{}, empty: map[string]bool{}} }

func (w *written) add(key string, empty bool) {
	w.keys[key] = true
	if empty {
		w.empty[key] = true
	}
}

// has says whether the document wrote key; a nil record wrote nothing.
func (w *written) has(key string) bool { return w != nil && w.keys[key] }

// emptyKeys lists the keys written empty, sorted.
func (w *written) emptyKeys() []string {
	if w == nil {
		return nil
	}
	var out []string
	for k := range w.empty {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sections are the object keys whose fields are recorded, with the type each decodes into.
func sectionTargets() map[string]any {
	return map[string]any{
		"cluster": &ClusterConfig{}, "pool": &PoolConfig{}, "modelStore": &ModelStoreConfig{},
		"serving": &ServingConfig{}, "metrics": &MetricsConfig{},
	}
}

// profileMayBeEmpty are the profile fields an override may clear: switching a TPU profile to
// a GPU drops its topology, and a GPU profile to a TPU its count.
var profileMayBeEmpty = map[string]bool{"accelerator.topology": true, "accelerator.count": true}

// emptyKeyError is the problem with a key written with no value.
func emptyKeyError(key string) error {
	if key == Namespace+":model" {
		return &FieldError{Key: key, Msg: "is empty; remove it to serve the default profile " + DefaultModel + ", or name a profile (" + strings.Join(ProfileNames(), ", ") + ")"}
	}
	return &FieldError{Key: key, Msg: "is empty; remove the key to take its default, or give it a value"}
}

// CheckWritten reports every key of config values (as Load reads them: llmserve:cluster as
// a JSON or YAML object) that is written with no value: `llmserve:model: ""`, `--set
// cluster.location=`, `{zones: null}`. Load refuses them too; the llmserve command calls this
// on the values as written, because its typed Settings cannot carry an empty string to Load.
// Decoding problems are Load's to report and are not repeated here.
func CheckWritten(values map[string]string) error {
	var errs []error
	for _, k := range ConfigKeys {
		if v, ok := values[Namespace+":"+k]; ok && strings.TrimSpace(v) == "" && k != "hfToken" {
			errs = append(errs, emptyKeyError(Namespace+":"+k))
		}
	}
	targets := sectionTargets()
	for _, sec := range slices.Sorted(maps.Keys(targets)) {
		w := newWritten()
		_ = decodeObject(sec, values[Namespace+":"+sec], targets[sec], w)
		for _, k := range w.emptyKeys() {
			errs = append(errs, emptyKeyError(Namespace+":"+sec+"."+k))
		}
	}
	return errors.Join(errs...)
}
