package sentinel

import (
	"sort"

	"github.com/entrawatch/entrawatch/internal/record"
)

// Kinds returns the record kinds whose records the rule's tables hold,
// sorted: the records a run of the rule needs to be shown (the service
// reads only those from its store).
func (r *Rule) Kinds() []record.Kind {
	seen := map[record.Kind]bool{}
	var out []record.Kind
	for _, t := range r.Tables {
		if k, ok := tableKinds[t]; ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
