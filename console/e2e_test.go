package console_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserEndToEnd drives the web UI in headless Chromium: sign-in, the
// overview, an alert with its events, acknowledge and close, a search with
// an event detail, the language switch and sign-out. Screenshots of each
// page go to CANHGAC_SCREENSHOT_DIR when set, else to a temporary folder.
func TestBrowserEndToEnd(t *testing.T) {
	if os.Getenv("CANHGAC_SKIP_BROWSER") == "1" {
		t.Skip("CANHGAC_SKIP_BROWSER=1: browser test skipped")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("headless Chromium not found at %s (%v): install it with `apt-get install -y chromium`, or set CANHGAC_SKIP_BROWSER=1 to skip this test", chromiumPath, err)
	}
	env := newTestEnv(t)
	shots := os.Getenv("CANHGAC_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("accept-lang", "vi-VN,vi"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	// Collect script exceptions and Content Security Policy violations,
	// which fail the test at the end.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	var consoleMu sync.Mutex
	var consoleErrors []string
	messages := chromedp.Console(ctx)
	go func() {
		for msg, err := range messages {
			if err != nil {
				return
			}
			if msg.Type == chromedp.ConsoleException || strings.Contains(msg.Text, "Content Security Policy") {
				consoleMu.Lock()
				consoleErrors = append(consoleErrors, string(msg.Type)+": "+msg.Text)
				consoleMu.Unlock()
			}
		}
	}()
	defer func() {
		consoleMu.Lock()
		defer consoleMu.Unlock()
		for _, e := range consoleErrors {
			t.Errorf("browser console: %s", e)
		}
	}()

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, target)
			if err != nil {
				return err
			}
			path := filepath.Join(shots, name+".png")
			t.Logf("screenshot %s", path)
			return os.WriteFile(path, buf, 0o644)
		})
	}
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

	// Sign-in, in Vietnamese from the browser's Accept-Language.
	run("open sign-in page",
		chromedp.Navigate(env.ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-user")),
		shot("01-login-vi"))
	htmlLang, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang"))
	if err != nil || htmlLang.Value != "vi" {
		t.Errorf("page language = %q, %v: want vi from Accept-Language", htmlLang.Value, err)
	}
	if got := text("sign-in title", ".login-card h1"); got != "Đăng nhập" {
		t.Errorf("sign-in title = %q", got)
	}
	run("wrong password",
		chromedp.SendKeys(chromedp.CSS("#login-user"), "lan.analyst"),
		chromedp.SendKeys(chromedp.CSS("#login-password"), "wrong-password"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(".error-box")))
	if got := text("sign-in error", ".error-box"); !strings.Contains(got, "Sai tên đăng nhập hoặc mật khẩu") {
		t.Errorf("sign-in error = %q", got)
	}
	run("sign in",
		chromedp.Clear(chromedp.CSS("#login-password")),
		chromedp.SendKeys(chromedp.CSS("#login-password"), "analyst-password-123"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("svg.chart rect.ds-0")),
		chromedp.WaitVisible(chromedp.CSS("svg.chart rect.lvl-high")),
		shot("02-overview-vi"))
	if got := text("who am I", "#whoami"); got != "lan.analyst (phân tích viên)" {
		t.Errorf("header user = %q", got)
	}

	// Alerts: the list, then the detail with its events.
	run("alerts page",
		chromedp.Click(chromedp.CSS(`#nav a[data-route="alerts"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.table tbody tr")),
		shot("03-alerts-vi"))
	if got := text("alert row", "table.table tbody tr"); !strings.Contains(got, "SSH brute force from one source") || !strings.Contains(got, "cao") {
		t.Errorf("alert row = %q", got)
	}
	run("alert detail",
		chromedp.Click(chromedp.CSS(`table.table a[href^="#/alerts/"]`)),
		chromedp.WaitVisible(chromedp.CSS("#alert-ack")),
		chromedp.WaitVisible(chromedp.CSS("table.events tbody tr")),
		shot("04-alert-detail-vi"))
	eventRows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.events tbody tr').length`))
	if err != nil {
		t.Fatal(err)
	}
	if eventRows != 17 {
		t.Errorf("alert detail shows %d events, want 17", eventRows)
	}
	run("event from alert",
		chromedp.Focus(chromedp.CSS("table.events tbody tr")),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#event-dialog .tree")),
		shot("05-event-vi"))
	if got := text("event dialog", "#event-dialog .tree"); !strings.Contains(got, "112.95.230.3") || !strings.Contains(got, "system.auth") {
		t.Errorf("event dialog = %q", got)
	}
	run("close event dialog", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.CSS("#event-dialog")))

	// Acknowledge, then close with a reason.
	run("acknowledge",
		chromedp.Click(chromedp.CSS("#alert-ack")),
		chromedp.WaitVisible(chromedp.CSS(".props .st-acknowledged")))
	run("close",
		chromedp.Click(chromedp.CSS("#alert-close")),
		chromedp.WaitVisible(chromedp.CSS("#close-reason")),
		chromedp.SendKeys(chromedp.CSS("#close-reason"), "Địa chỉ đã bị chặn ở tường lửa"),
		chromedp.Click(chromedp.CSS("#alert-close-confirm")),
		chromedp.WaitVisible(chromedp.CSS(".props .st-closed")),
		shot("06-alert-closed-vi"))
	alert, _, err := env.store.Alert(context.Background(), env.alertID)
	if err != nil {
		t.Fatal(err)
	}
	if alert.Status != ecs.StatusClosed || alert.Reason != "Địa chỉ đã bị chặn ở tường lửa" {
		t.Errorf("stored alert status %v reason %q", alert.Status, alert.Reason)
	}

	// Switch to English; the choice is kept in a cookie across a reload.
	run("switch to English",
		chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`(() => { const s = document.getElementById('lang'); s.value = 'en'; s.dispatchEvent(new Event('change')); return true; })()`)(ctx, target)
			return err
		}),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] .props .st-closed`)),
		shot("07-alert-closed-en"))
	if got := text("status in English", ".props .st-closed"); got != "closed" {
		t.Errorf("closed status in English = %q", got)
	}

	// Search with a KQL query and a preset range, then open a row.
	run("search",
		chromedp.Click(chromedp.CSS(`#nav a[data-route="search"]`)),
		chromedp.WaitVisible(chromedp.CSS("#search-q")),
		chromedp.SetValue(chromedp.CSS(`.range-picker select`), "24h"),
		chromedp.SendKeys(chromedp.CSS("#search-q"), "user.name:root and event.outcome:failure"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#search-total")),
		shot("08-search-en"))
	total := text("search total", "#search-total")
	want := 0
	for _, ev := range env.events {
		if ev.Fields["user.name"] == "root" && ev.Fields["event.outcome"] == "failure" {
			want++
		}
	}
	if !strings.HasPrefix(total, "Matching events: "+strconv.Itoa(want)+" ") {
		t.Errorf("search total = %q, want %d matching events", total, want)
	}
	run("event from search",
		chromedp.Click(chromedp.CSS("table.events tbody tr")),
		chromedp.WaitVisible(chromedp.CSS("#event-dialog .tree")),
		shot("09-event-en"),
		chromedp.Click(chromedp.CSS("#event-dialog-close")),
		chromedp.WaitNotVisible(chromedp.CSS("#event-dialog")))

	// Pivot from a field of the event detail to a search on its value.
	sameSource := 0
	for _, ev := range env.events {
		if ev.Fields["source.ip"] == "112.95.230.3" {
			sameSource++
		}
	}
	run("pivot on source.ip",
		chromedp.Click(chromedp.CSS("table.events tbody tr")),
		chromedp.WaitVisible(chromedp.CSS(`#event-dialog a[href*="source.ip"]`)),
		chromedp.Click(chromedp.CSS(`#event-dialog a[href*="source.ip"]`)),
		chromedp.WaitNotVisible(chromedp.CSS("#event-dialog")))
	// The previous results stay on the page until the new ones replace
	// them, so wait for the query box of the new page.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		const q = document.getElementById('search-q');
		return !!q && q.value.startsWith('source.ip:') && !!document.getElementById('search-total');
	})()`)); err != nil {
		t.Fatalf("pivot search page: %v", err)
	}
	if got := text("pivot total", "#search-total"); !strings.HasPrefix(got, "Matching events: "+strconv.Itoa(sameSource)+" ") {
		t.Errorf("pivot on source.ip = %q, want %d events", got, sameSource)
	}

	run("invalid query",
		chromedp.Clear(chromedp.CSS("#search-q")),
		chromedp.SendKeys(chromedp.CSS("#search-q"), "user.name:(root"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(".error-box")))
	if got := text("query error", ".error-box"); !strings.Contains(got, "Invalid KQL query") {
		t.Errorf("query error = %q", got)
	}

	// An absolute range given in the from and to inputs (UTC).
	from := time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02T15:04:05")
	to := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04:05")
	run("absolute range",
		chromedp.Clear(chromedp.CSS("#search-q")),
		chromedp.SetValue(chromedp.CSS(".range-picker select"), "custom"),
		chromedp.SetValue(chromedp.CSS(".range-custom input[type=datetime-local]"), from),
		chromedp.SetValue(chromedp.CSS(".range-custom label + input + label + input"), to),
		chromedp.Click(chromedp.CSS("#search-submit")),
		chromedp.WaitVisible(chromedp.CSS("#search-total")))
	if got := text("absolute range total", "#search-total"); !strings.HasPrefix(got, "Matching events: "+strconv.Itoa(len(env.events))+" ") {
		t.Errorf("search over an absolute range = %q, want all %d events", got, len(env.events))
	}

	run("overview in English",
		chromedp.Click(chromedp.CSS(`#nav a[data-route="overview"]`)),
		chromedp.WaitVisible(chromedp.CSS("svg.chart rect.ds-0")),
		shot("10-overview-en"))

	run("sign out",
		chromedp.Click(chromedp.CSS("#signout")),
		chromedp.WaitVisible(chromedp.CSS("#login-user")),
		shot("11-login-en"))
	if got := text("sign-in title in English", ".login-card h1"); got != "Sign in" {
		t.Errorf("sign-in title after sign-out = %q", got)
	}
}
