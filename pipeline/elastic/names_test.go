package elastic

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDataStreamNames(t *testing.T) {
	tests := []struct {
		dataset, region, want string
	}{
		{"system.auth", "dc1", "logs-system.auth-dc1"},
		{"windows.microsoft-windows-sysmon/operational", "dc2", "logs-windows.microsoft_windows_sysmon_operational-dc2"},
		{"Web.Access", "DC1", "logs-web.access-dc1"},
		{"", "", "logs-generic-default"},
		{"a b*c?d\"e<f>g|h,i#j:k\\l", "dc1", "logs-a_b_c_d_e_f_g_h_i_j_k_l-dc1"},
		{"..", "dc1", "logs-__-dc1"},
	}
	for _, tt := range tests {
		if got := DataStream(tt.dataset, tt.region); got != tt.want {
			t.Errorf("DataStream(%q, %q) = %q, want %q", tt.dataset, tt.region, got, tt.want)
		}
	}
	long := DataStream(strings.Repeat("x", 300), "dc1")
	other := DataStream(strings.Repeat("x", 299)+"y", "dc1")
	if len(long) > 120 || long == other {
		t.Errorf("long datasets: %q and %q", long, other)
	}
}

func TestAuditDatasets(t *testing.T) {
	s := &Store{opts: Options{URLs: []string{"http://127.0.0.1:9200"}, Region: "dc1"}}
	if err := s.opts.setDefaults(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dataset string
		audit   bool
	}{
		{"auditd.log", true},
		{"audit.access", true},
		{"canhgac.audit_ledger", true},
		{"system.auth", false},
		{"auditdx", false},
	}
	for _, tt := range tests {
		if got := s.isAudit(namePart(tt.dataset, "")); got != tt.audit {
			t.Errorf("isAudit(%s) = %v, want %v", tt.dataset, got, tt.audit)
		}
		want := 365 * 24 * time.Hour
		if tt.audit {
			want = 730 * 24 * time.Hour
		}
		if got := s.Retention(namePart(tt.dataset, "")); got != want {
			t.Errorf("Retention(%s) = %s, want %s", tt.dataset, got, want)
		}
	}
}

func TestOptionsFromYAML(t *testing.T) {
	src := `
urls: [http://127.0.0.1:9200]
region: dc2
replicas: 1
system_retention_days: 400
audit_retention_days: 800
audit_datasets: [auditd.*]
rollover_max_age: 12h
replay_window: 30m
bulk_workers: 3
`
	var o Options
	if err := yaml.Unmarshal([]byte(src), &o); err != nil {
		t.Fatal(err)
	}
	if err := o.setDefaults(); err != nil {
		t.Fatal(err)
	}
	if o.Region != "dc2" || o.Replicas != 1 || o.SystemRetentionDays != 400 || o.AuditRetentionDays != 800 ||
		o.RolloverMaxAge != 12*time.Hour || o.ReplayWindow != 30*time.Minute || o.BulkWorkers != 3 ||
		len(o.AuditDatasets) != 1 || o.Shards != 1 || o.BulkMaxBytes != 8<<20 {
		t.Errorf("options %+v", o)
	}
}
