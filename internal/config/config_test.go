package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadOverridesDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("region: dc2\nretention: 30d\nfiles:\n  - path: /tmp/x.log\n    format: syslog\n"), 0o600)
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "dc2" {
		t.Errorf("region = %q, want dc2", cfg.Region)
	}
	if time.Duration(cfg.Retention) != 30*24*time.Hour {
		t.Errorf("retention = %v, want 720h", time.Duration(cfg.Retention))
	}
	if len(cfg.Files) != 1 || cfg.Files[0].Format != "syslog" {
		t.Errorf("files = %+v", cfg.Files)
	}
	if cfg.Console.Addr != "127.0.0.1:8480" {
		t.Errorf("console addr default lost: %q", cfg.Console.Addr)
	}
}

func TestLoadRejectsUnknownKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("regoin: dc2\n"), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "regoin") {
		t.Errorf("err = %v, want one naming regoin", err)
	}
}

func TestValidateRejectsRemoteConsole(t *testing.T) {
	cfg := Default()
	cfg.Console.Addr = "0.0.0.0:8480"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("err = %v, want a loopback error", err)
	}
	cfg.Console.AllowRemote = true
	if err := cfg.Validate(); err != nil {
		t.Errorf("allow_remote: %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"365d": 365 * 24 * time.Hour, "90m": 90 * time.Minute} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseDuration("3 days"); err == nil {
		t.Error("ParseDuration(3 days) succeeded")
	}
}

// TestExampleConfigLoads keeps docs/config.example.yaml in step with the
// settings: every key it shows must be known.
func TestExampleConfigLoads(t *testing.T) {
	cfg, err := Load("../../docs/config.example.yaml")
	if err != nil {
		t.Fatalf("docs/config.example.yaml: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("docs/config.example.yaml: %v", err)
	}
	if got := cfg.AllRegions(); len(got) != 2 || cfg.Kafka.Producer.Compression != "lz4" || cfg.Elasticsearch.SystemRetentionDays != 365 {
		t.Errorf("example config read as regions %v, compression %q, retention %d", got, cfg.Kafka.Producer.Compression, cfg.Elasticsearch.SystemRetentionDays)
	}
}
