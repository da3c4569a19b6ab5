package main

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/blindlist/blindlist/api"
	"github.com/blindlist/blindlist/generation"
)

// generationPollInterval is how often serve looks for a newly published
// generation of its usecases' directories.
const generationPollInterval = 2 * time.Second

// generationWatch remembers the current generation of every usecase
// directory laid out in generations.
type generationWatch struct {
	seen map[string]string // root -> current id
}

func newGenerationWatch(fc *api.FileConfig) *generationWatch {
	w := &generationWatch{}
	w.seen, _ = currentIDs(fc)
	return w
}

// changed reports whether any root's current generation differs from the
// last call (each new id is reported once, also when its reload fails),
// and lists root=id pairs for the log.
func (w *generationWatch) changed(fc *api.FileConfig) (bool, string) {
	now, list := currentIDs(fc)
	if maps.Equal(now, w.seen) {
		return false, ""
	}
	w.seen = now
	return true, list
}

// currentIDs returns the current generation id of every usecase directory
// laid out in generations.
func currentIDs(fc *api.FileConfig) (map[string]string, string) {
	ids := map[string]string{}
	for _, v := range fc.Vendors {
		for _, uc := range v.Usecases {
			if generation.IsRoot(uc.Directory) {
				id, _ := generation.CurrentID(uc.Directory)
				ids[uc.Directory] = id
			}
		}
	}
	var parts []string
	for _, root := range slices.Sorted(maps.Keys(ids)) {
		parts = append(parts, root+"="+ids[root])
	}
	return ids, strings.Join(parts, " ")
}
