package esstore

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/console/auth"
)

// TestConsoleAPIOverElasticsearch runs the console's HTTP API on the
// adapter: sign in, search, open the alert and close it.
func TestConsoleAPIOverElasticsearch(t *testing.T) {
	s, events, region := openStore(t)
	users, err := auth.OpenUsers(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Add("lan.analyst", auth.RoleAnalyst, "analyst-password-123"); err != nil {
		t.Fatal(err)
	}
	srv, err := console.NewServer(console.Options{Events: s, Alerts: s, Users: users})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	call := func(method, path, token, body string, into any) int {
		t.Helper()
		req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		if into != nil && res.StatusCode == http.StatusOK {
			if err := json.Unmarshal(data, into); err != nil {
				t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
			}
		}
		if res.StatusCode != http.StatusOK {
			t.Logf("%s %s: HTTP %d %s", method, path, res.StatusCode, data)
		}
		return res.StatusCode
	}

	var login struct{ Token string }
	if code := call("POST", "/api/login", "", `{"user":"lan.analyst","password":"analyst-password-123","bearer":true}`, &login); code != 200 || login.Token == "" {
		t.Fatalf("login: HTTP %d", code)
	}

	q := url.Values{"q": {"observer.geo.name:" + region + " and source.ip:173.234.31.186"},
		"from": {"2025-12-10T00:00:00Z"}, "to": {"2025-12-11T00:00:00Z"}}
	var search struct {
		Total  int              `json:"total"`
		Events []map[string]any `json:"events"`
	}
	if code := call("GET", "/api/search?"+q.Encode(), login.Token, "", &search); code != 200 {
		t.Fatalf("search: HTTP %d", code)
	}
	if search.Total != 2 || len(search.Events) != 2 {
		t.Errorf("search: total %d, %d events; want 2", search.Total, len(search.Events))
	}

	bad := url.Values{"q": {"source.ip:(1"}, "from": {"2025-12-10T00:00:00Z"}}
	if code := call("GET", "/api/search?"+bad.Encode(), login.Token, "", nil); code != http.StatusBadRequest {
		t.Errorf("invalid query: HTTP %d, want 400", code)
	}

	var list struct {
		Alerts []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"alerts"`
	}
	if code := call("GET", "/api/alerts?region="+region, login.Token, "", &list); code != 200 || len(list.Alerts) != 1 {
		t.Fatalf("alerts: HTTP %d, %d alerts", code, len(list.Alerts))
	}
	id := list.Alerts[0].ID

	var one struct {
		Events []map[string]any `json:"events"`
	}
	if code := call("GET", "/api/alerts/"+id, login.Token, "", &one); code != 200 || len(one.Events) != 1 {
		t.Errorf("alert: HTTP %d, %d events, want 1", code, len(one.Events))
	}

	var closed struct {
		Alert struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"alert"`
	}
	if code := call("POST", "/api/alerts/"+id+"/close", login.Token, `{"reason":"known scanner"}`, &closed); code != 200 {
		t.Fatalf("close: HTTP %d", code)
	}
	if closed.Alert.Status != "closed" || closed.Alert.Reason != "known scanner" {
		t.Errorf("after close: %+v", closed.Alert)
	}
	if code := call("GET", "/api/events/"+events[0].ID, login.Token, "", nil); code != 200 {
		t.Errorf("event: HTTP %d", code)
	}
	if code := call("GET", "/api/events/no-such-event", login.Token, "", nil); code != http.StatusNotFound {
		t.Errorf("missing event: HTTP %d, want 404", code)
	}
}
