package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/console/auth"
	"github.com/canhgac/canhgac/console/embedstore"
	"github.com/canhgac/canhgac/console/federated"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/embedded"
)

// regionEnv is a console over a federation of two embedded stores: the
// even seed lines in dc1, the odd ones in dc2.
type regionEnv struct {
	*testEnv
	regional map[string]*embedded.Store
	byRegion map[string][]*ecs.Event
}

func newRegionEnv(t *testing.T) *regionEnv {
	t.Helper()
	end := seedEnd()
	events := loadSSHEvents(t, 60, end)
	byRegion := map[string][]*ecs.Event{}
	for i, ev := range events {
		region := []string{"dc1", "dc2"}[i%2]
		ev.Fields["observer.geo.name"] = region
		ev.Fields["observer.name"] = "sensor-" + region
		ev.Fields["event.ingested"] = end.Format(time.RFC3339Nano)
		byRegion[region] = append(byRegion[region], ev)
	}

	env := &regionEnv{regional: map[string]*embedded.Store{}, byRegion: byRegion}
	var regions []federated.Region
	for _, name := range []string{"dc1", "dc2"} {
		s, err := embedded.Open(t.TempDir(), embedded.Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.WriteBatch(context.Background(), &pipeline.Write{Events: byRegion[name]}); err != nil {
			t.Fatal(err)
		}
		env.regional[name] = s
		adapter := embedstore.New(s)
		regions = append(regions, federated.Region{Name: name, Events: adapter, Alerts: adapter})
	}
	fed, err := federated.New(regions, federated.Options{Timeout: 5 * time.Second, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}

	users, err := auth.OpenUsers(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range testUsers {
		if err := users.Add(u.name, u.role, u.password); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := console.NewServer(console.Options{Events: fed, Alerts: fed, Regions: fed, Users: users, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	env.testEnv = &testEnv{t: t, users: users, ts: ts, events: events}
	return env
}

func TestSearchMarksRegions(t *testing.T) {
	env := newRegionEnv(t)
	auth := env.bearer("lan.analyst")
	res := env.do(nil, "GET", "/api/search?from=now-24h&limit=1000", "", auth)
	if res.status != 200 {
		t.Fatalf("search: %d %s", res.status, res.raw)
	}
	if n := int(res.body["total"].(float64)); n != len(env.events) {
		t.Errorf("total %d, want %d", n, len(env.events))
	}
	if w := res.body["warnings"].([]any); len(w) != 0 {
		t.Errorf("warnings %v with both regions up", w)
	}
	counts := map[string]int{}
	for _, e := range res.body["events"].([]any) {
		observer := e.(map[string]any)["observer"].(map[string]any)
		counts[observer["geo"].(map[string]any)["name"].(string)]++
	}
	if counts["dc1"] != len(env.byRegion["dc1"]) || counts["dc2"] != len(env.byRegion["dc2"]) {
		t.Errorf("events per region %v", counts)
	}
}

// TestRegionDownWarning closes dc2's store. Search, alerts and the
// overview then return dc1's results with a warning in the request's
// language.
func TestRegionDownWarning(t *testing.T) {
	env := newRegionEnv(t)
	if err := env.regional["dc2"].Close(); err != nil {
		t.Fatal(err)
	}
	auth := env.bearer("lan.analyst")
	tests := []struct {
		lang, want string
	}{
		{"vi", "Không truy vấn được vùng dc2: "},
		{"en", "Could not query region dc2: "},
	}
	for _, tt := range tests {
		res := env.do(nil, "GET", "/api/search?from=now-24h&limit=1000&lang="+tt.lang, "", auth)
		if res.status != 200 {
			t.Fatalf("search with dc2 down: %d %s", res.status, res.raw)
		}
		if n := int(res.body["total"].(float64)); n != len(env.byRegion["dc1"]) {
			t.Errorf("total %d, want dc1's %d", n, len(env.byRegion["dc1"]))
		}
		warnings := res.body["warnings"].([]any)
		if len(warnings) != 1 {
			t.Fatalf("warnings %v, want one", warnings)
		}
		w := warnings[0].(map[string]any)
		msg, _ := w["message"].(string)
		if w["region"] != "dc2" || w["error"] == "" || !strings.HasPrefix(msg, tt.want) {
			t.Errorf("%s warning %v, want region dc2 and a message starting %q", tt.lang, w, tt.want)
		}
		if tt.lang == "vi" && !strings.HasSuffix(msg, "; kết quả chỉ gồm dc1") {
			t.Errorf("vi warning %q does not say the results cover dc1 only", msg)
		}
	}
	alerts := env.do(nil, "GET", "/api/alerts", "", auth)
	if got := alerts.body["regions"]; fmt.Sprint(got) != "[dc1 dc2]" {
		t.Errorf("alerts regions %v, want [dc1 dc2]", got)
	}
	for _, path := range []string{"/api/alerts", "/api/overview"} {
		res := env.do(nil, "GET", path, "", auth)
		if res.status != 200 {
			t.Fatalf("%s with dc2 down: %d %s", path, res.status, res.raw)
		}
		warnings := res.body["warnings"].([]any)
		if len(warnings) != 1 || warnings[0].(map[string]any)["region"] != "dc2" {
			t.Errorf("%s warnings %v, want one for dc2", path, warnings)
		}
	}
	res := env.do(nil, "GET", "/api/events/"+env.byRegion["dc2"][0].ID, "", auth)
	if res.status != http.StatusServiceUnavailable || res.errorCode() != "region_unavailable" {
		t.Errorf("dc2 event with dc2 down: %d %s, want 503 region_unavailable", res.status, res.raw)
	}
	res = env.do(nil, "GET", "/api/events/"+env.byRegion["dc1"][0].ID, "", auth)
	if res.status != 200 {
		t.Errorf("dc1 event with dc2 down: %d %s", res.status, res.raw)
	}

	if err := env.regional["dc1"].Close(); err != nil {
		t.Fatal(err)
	}
	res = env.do(nil, "GET", "/api/search?from=now-24h&lang=en", "", auth)
	if res.status != http.StatusServiceUnavailable || res.errorCode() != "region_unavailable" ||
		!strings.HasPrefix(res.errorMessage(), "No region could be queried: ") {
		t.Errorf("search with both regions down: %d %s, want 503 region_unavailable", res.status, res.raw)
	}
}

func TestRegionsEndpoint(t *testing.T) {
	env := newRegionEnv(t)
	if err := env.regional["dc2"].Close(); err != nil {
		t.Fatal(err)
	}
	res := env.do(nil, "GET", "/api/regions", "", env.bearer("minh.auditor"))
	if res.status != 200 {
		t.Fatalf("regions: %d %s", res.status, res.raw)
	}
	if res.body["configured"] != true {
		t.Errorf("configured %v, want true", res.body["configured"])
	}

	regions := res.body["regions"].([]any)
	if len(regions) != 2 {
		t.Fatalf("regions %v", regions)
	}
	dc1, dc2 := regions[0].(map[string]any), regions[1].(map[string]any)
	n := float64(len(env.byRegion["dc1"]))
	if dc1["region"] != "dc1" || dc1["reachable"] != true || dc1["ingested_5m"] != n || dc1["rate_5m"] != n/5 {
		t.Errorf("dc1 %v, want reachable with %v events ingested in 5 min", dc1, n)
	}

	sensors := dc1["sensors"].([]any)
	if len(sensors) != 1 || sensors[0].(map[string]any)["health"] != "healthy" || sensors[0].(map[string]any)["name"] != "sensor-dc1" {
		t.Errorf("dc1 sensors %v, want sensor-dc1 healthy", sensors)
	}
	if dc2["region"] != "dc2" || dc2["reachable"] != false || dc2["error"] == "" {
		t.Errorf("dc2 %v, want unreachable with the error", dc2)
	}
	if dc1["lag_seconds"] != nil || dc1["consumer_lag"] != nil {
		t.Errorf("dc1 lag %v and consumer lag %v, want null from a store without them", dc1["lag_seconds"], dc1["consumer_lag"])
	}
}

func TestRegionsNotConfigured(t *testing.T) {
	env := newTestEnv(t)
	res := env.do(nil, "GET", "/api/regions", "", env.bearer("lan.analyst"))
	if res.status != 200 || res.body["configured"] != false || len(res.body["regions"].([]any)) != 0 {
		t.Errorf("regions without a status reader: %d %s", res.status, res.raw)
	}
	search := env.do(nil, "GET", "/api/search?from=now-24h", "", env.bearer("lan.analyst"))
	if w := search.body["warnings"].([]any); len(w) != 0 {
		t.Errorf("single store search warnings %v", w)
	}
}
