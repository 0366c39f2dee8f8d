package console_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserRegions drives the web UI over two regions with dc2's store
// closed: the search shows dc1's events under the warning banner, and the
// region view shows dc1 reachable with a healthy sensor and dc2
// unreachable.
func TestBrowserRegions(t *testing.T) {
	if os.Getenv("CANHGAC_SKIP_BROWSER") == "1" {
		t.Skip("CANHGAC_SKIP_BROWSER=1: browser test skipped")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("headless Chromium not found at %s (%v): install it with `apt-get install -y chromium`, or set CANHGAC_SKIP_BROWSER=1 to skip this test", chromiumPath, err)
	}
	env := newRegionEnv(t)
	if err := env.regional["dc2"].Close(); err != nil {
		t.Fatal(err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("accept-lang", "vi-VN,vi"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1360, 900))
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(step, sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		return s
	}

	run("sign in",
		chromedp.Navigate(env.ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-user")),
		chromedp.SendKeys(chromedp.CSS("#login-user"), "lan.analyst"),
		chromedp.SendKeys(chromedp.CSS("#login-password"), "analyst-password-123"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#region-warnings")))
	if got := text("overview banner", "#region-warnings"); !strings.Contains(got, "Không truy vấn được vùng dc2") {
		t.Errorf("overview banner = %q", got)
	}

	run("search",
		chromedp.Click(chromedp.CSS(`#nav a[data-route="search"]`)),
		chromedp.WaitVisible(chromedp.CSS("#search-q")),
		chromedp.SetValue(chromedp.CSS(`.range-picker select`), "24h"),
		chromedp.SendKeys(chromedp.CSS("#search-q"), "process.name:sshd"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#search-total")),
		chromedp.WaitVisible(chromedp.CSS("#region-warnings")))
	banner := text("search banner", "#region-warnings")
	if !strings.HasPrefix(banner, "Không truy vấn được vùng dc2: ") || !strings.HasSuffix(banner, "kết quả chỉ gồm dc1") {
		t.Errorf("search banner = %q", banner)
	}
	regions, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('table.events tbody tr td:nth-child(2)')].map((td) => td.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(regions) != len(env.byRegion["dc1"]) {
		t.Errorf("search shows %d rows, want dc1's %d", len(regions), len(env.byRegion["dc1"]))
	}
	for _, r := range regions {
		if r != "dc1" {
			t.Errorf("region column %q, want dc1", r)
		}
	}

	run("alerts", chromedp.Click(chromedp.CSS(`#nav a[data-route="alerts"]`)), chromedp.WaitVisible(chromedp.CSS("#f-region")))
	options, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#f-region option')].map((o) => o.value)`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(options, ",") != ",dc1,dc2" {
		t.Errorf("region filter options %q, want any, dc1 and dc2", options)
	}

	run("regions view",
		chromedp.Click(chromedp.CSS(`#nav a[data-route="regions"]`)),
		chromedp.WaitVisible(chromedp.CSS("#regions-table")))
	if got := text("dc1 row", `#regions-table tr[data-region="dc1"]`); !strings.Contains(got, "truy vấn được") {
		t.Errorf("dc1 row = %q", got)
	}
	if got := text("dc2 row", `#regions-table tr[data-region="dc2"]`); !strings.Contains(got, "không truy vấn được") {
		t.Errorf("dc2 row = %q", got)
	}
	if got := text("sensor row", `table.sensors tr[data-sensor="sensor-dc1"]`); !strings.Contains(got, "hoạt động tốt") {
		t.Errorf("sensor row = %q", got)
	}
	if got := text("nav label", `#nav a[data-route="regions"]`); got != "Vùng" {
		t.Errorf("nav label = %q, want Vùng", got)
	}
}
