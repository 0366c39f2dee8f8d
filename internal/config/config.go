// Package config holds the settings of `canhgac run`: where data lives,
// which inputs to read, where to listen, and which rules to load. Every
// setting has a default, so `canhgac run` works without a file; a YAML file
// (--config) overrides the defaults and flags override the file.
package config

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/canhgac/canhgac/pipeline/elastic"
	"github.com/canhgac/canhgac/pipeline/kafkabus"
	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of one canhgac process.
type Config struct {
	// Region is this site's region name, set as observer.geo.name (dc1, dc2).
	Region string `yaml:"region"`
	// Sensor names this process, set as observer.name. Default: the host name.
	Sensor string `yaml:"sensor"`
	// DataDir holds the store, checkpoints, users and keys.
	DataDir string `yaml:"data_dir"`
	// Files are the log files to tail. A missing file is waited for.
	Files []FileInput `yaml:"files"`
	// EVTXDirs are folders of Windows EVTX files (from Windows Event
	// Forwarding or scheduled exports) whose new records are read.
	EVTXDirs []string `yaml:"evtx_dirs"`
	// Imports are files and folders read once, whole, like canhgac hunt
	// reads them: captures, EVTX, JSON and log files.
	Imports []string `yaml:"imports"`
	// Syslog configures the syslog listeners.
	Syslog Syslog `yaml:"syslog"`
	// Capture is a network interface for live packet capture ("" for none).
	Capture string `yaml:"capture"`
	// Console configures the web console and JSON API.
	Console Console `yaml:"console"`
	// Rules lists extra Sigma rule files or folders; the bundled pack is
	// always loaded unless NoBundledRules is set.
	Rules          []string `yaml:"rules"`
	NoBundledRules bool     `yaml:"no_bundled_rules"`
	// Placeholders is a YAML file of values for the rules' %placeholders%.
	Placeholders string `yaml:"placeholders"`
	// Retention is how long events are kept in the embedded store.
	Retention Duration `yaml:"retention"`

	// Regions lists every region's name; canhgac pipeline consumes the
	// events topics of all of them. Default: Region only.
	Regions []string `yaml:"regions"`
	// Kafka configures the bus of canhgac sensor and canhgac pipeline.
	Kafka kafkabus.Config `yaml:"kafka"`
	// Elasticsearch configures the store of canhgac pipeline and canhgac
	// console; its region is Region.
	Elasticsearch elastic.Options `yaml:"elasticsearch"`
	// RegionElasticsearch overrides Elasticsearch for regions whose store
	// is a cluster of its own, keyed by region name; canhgac console reads
	// every region's store.
	RegionElasticsearch map[string]elastic.Options `yaml:"region_elasticsearch"`
	// PipelineMetrics maps a region to the /metrics URL of a pipeline that
	// consumes it, for the consumer lag the console shows.
	PipelineMetrics map[string]string `yaml:"pipeline_metrics"`
	// Metrics is the host:port of the /metrics endpoint of canhgac sensor
	// and canhgac pipeline: "" for the command's default, "off" for none.
	Metrics string `yaml:"metrics"`
}

// AllRegions returns Regions, or Region alone when Regions is empty.
func (c *Config) AllRegions() []string {
	if len(c.Regions) == 0 {
		return []string{c.Region}
	}
	return c.Regions
}

// FileInput is one tailed file or glob.
type FileInput struct {
	// Path is a file path or a glob such as /var/log/nginx/*.log.
	Path string `yaml:"path"`
	// Format is the logparse format name: auto, syslog, access,
	// apache_error, nginx_error, auditd or json.
	Format string `yaml:"format"`
}

// Syslog configures the syslog listeners. An empty address disables one.
type Syslog struct {
	UDP string `yaml:"udp"`
	TCP string `yaml:"tcp"`
}

// Console configures the HTTP server of the console.
type Console struct {
	// Addr is host:port; it must be a loopback address unless
	// AllowRemote is set, because the embedded console serves plain HTTP.
	Addr        string `yaml:"addr"`
	AllowRemote bool   `yaml:"allow_remote"`
}

// Duration is a time.Duration that YAML writes as "720h" or "30d".
type Duration time.Duration

// UnmarshalYAML accepts Go durations and a whole number of days ("30d").
func (d *Duration) UnmarshalYAML(node *yaml.Node) error {
	v, err := ParseDuration(node.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses a Go duration or a number of days such as "365d".
func ParseDuration(s string) (time.Duration, error) {
	var days int
	if n, err := fmt.Sscanf(s, "%dd", &days); err == nil && n == 1 && fmt.Sprintf("%dd", days) == s {
		return time.Duration(days) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, newError("config.duration.invalid", s)
	}
	return v, nil
}

// DefaultLogFiles are the system logs `canhgac run` tails by default; the
// ones that do not exist on a machine are reported and waited for.
var DefaultLogFiles = []FileInput{
	{Path: "/var/log/auth.log", Format: "auto"},
	{Path: "/var/log/secure", Format: "auto"},
	{Path: "/var/log/syslog", Format: "auto"},
	{Path: "/var/log/messages", Format: "auto"},
	{Path: "/var/log/audit/audit.log", Format: "auditd"},
}

// Default returns the configuration used without a file.
func Default() Config {
	host, _ := os.Hostname()
	return Config{
		Region:    "dc1",
		Sensor:    host,
		DataDir:   "canhgac-data",
		Files:     append([]FileInput(nil), DefaultLogFiles...),
		Syslog:    Syslog{UDP: "127.0.0.1:5514", TCP: "127.0.0.1:5514"},
		Console:   Console{Addr: "127.0.0.1:8480"},
		Retention: Duration(365 * 24 * time.Hour),
		Kafka:     kafkabus.Config{Options: kafkabus.Options{Brokers: []string{"127.0.0.1:9092"}}},
		Elasticsearch: elastic.Options{
			URLs: []string{"http://127.0.0.1:9200"},
		},
	}
}

// Load reads a YAML file over the defaults. Unknown keys are errors, so a
// misspelt setting is not silently ignored.
func Load(path string) (Config, error) {
	cfg := Default()
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, newError("config.read", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return cfg, newError("config.parse", path, err)
	}
	return cfg, nil
}

// Validate checks the settings that would otherwise fail later, far from
// their cause.
func (c *Config) Validate() error {
	if c.Region == "" {
		return newError("config.region.empty")
	}
	if c.DataDir == "" {
		return newError("config.data_dir.empty")
	}
	for _, addr := range []struct{ name, value string }{{"syslog.udp", c.Syslog.UDP}, {"syslog.tcp", c.Syslog.TCP}, {"console.addr", c.Console.Addr}} {
		if addr.value == "" {
			continue
		}
		host, _, err := net.SplitHostPort(addr.value)
		if err != nil {
			return newError("config.addr.invalid", addr.name, addr.value, err)
		}
		if addr.name == "console.addr" && !c.Console.AllowRemote && !isLoopback(host) {
			return newError("config.console.remote", addr.value)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
