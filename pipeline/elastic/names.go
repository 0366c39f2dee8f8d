package elastic

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/canhgac/canhgac/ecs"
)

// maxDatasetBytes keeps data stream names well below Elasticsearch's
// 255-byte limit on index names, which also counts the ".ds-" prefix and
// the date and generation suffix of backing indices.
const maxDatasetBytes = 100

// genericDataset is the dataset part for events without event.dataset.
const genericDataset = "generic"

// DataStream returns the data stream of an event with the given dataset
// and region: logs-<dataset>-<region>. Both parts are lower-cased, and
// characters that index names forbid, and '-' (the separator of the
// parts), become '_'. An empty dataset becomes "generic". For example
// windows.microsoft-windows-sysmon/operational in dc1 is written to
// logs-windows.microsoft_windows_sysmon_operational-dc1.
func DataStream(dataset, region string) string {
	return "logs-" + namePart(dataset, genericDataset) + "-" + namePart(region, "default")
}

// namePart makes s usable as one part of a data stream name.
func namePart(s, empty string) string {
	if s == "" {
		return empty
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if len(out) > maxDatasetBytes {
		// Keep names distinct after truncation.
		sum := sha256.Sum256([]byte(s))
		out = out[:maxDatasetBytes-9] + "_" + hex.EncodeToString(sum[:4])
	}
	if out == "." || out == ".." {
		out = strings.ReplaceAll(out, ".", "_")
	}
	return out
}

// streamOf returns the data stream an event is written to.
func (s *Store) streamOf(ev *ecs.Event) string {
	dataset, _ := ev.Fields["event.dataset"].(string)
	region, _ := ev.Fields["observer.geo.name"].(string)
	if region == "" {
		region = s.opts.Region
	}
	return DataStream(dataset, region)
}

// deadLetterStream returns the dead-letter stream of this store's region.
func (s *Store) deadLetterStream() string {
	return DataStream(deadLetterDataset, s.opts.Region)
}

// datasetOfStream returns the dataset part of a data stream name, as
// DataStream wrote it (sanitized).
func datasetOfStream(name string) string {
	rest := strings.TrimPrefix(name, "logs-")
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		return rest[:i]
	}
	return rest
}

// isAudit reports whether a sanitized dataset name is audit data.
func (s *Store) isAudit(dataset string) bool {
	for _, p := range s.opts.AuditDatasets {
		p = strings.ToLower(p)
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(dataset, namePart(prefix, "")) {
				return true
			}
		} else if dataset == namePart(p, "") {
			return true
		}
	}
	return false
}

// auditPatterns returns index patterns for the audit datasets.
func (s *Store) auditPatterns() []string {
	var out []string
	for _, p := range s.opts.AuditDatasets {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			out = append(out, "logs-"+namePart(prefix, "")+"*-*")
		} else {
			out = append(out, "logs-"+namePart(p, "")+"-*")
		}
	}
	return out
}
