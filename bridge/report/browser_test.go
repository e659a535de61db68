package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/otbridge/otbridge/bridge"
)

// requireEnv names the environment variable that, set to 1, turns a
// missing browser from a skipped test into a failed one (.ci/run sets it).
const requireEnv = "OTBRIDGE_REQUIRE_INTEGRATION"

// screenshotEnv names the folder the browser test saves its screenshots
// in; without it they go to a temporary folder.
const screenshotEnv = "OTBRIDGE_SCREENSHOT_DIR"

// browserTimeout bounds the whole browser test.
const browserTimeout = 90 * time.Second

// chromium finds the headless browser, or skips the test without one (or
// fails it when requireEnv is 1).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	msg := "no chromium on PATH or at /usr/bin/chromium: install the Debian package chromium to check the HTML report in a browser"
	if os.Getenv(requireEnv) == "1" {
		t.Fatal(msg + "; " + requireEnv + "=1 requires it")
	}
	t.Skip(msg)
	return ""
}

// browser is one headless chromium tab that records what a page must not
// do: write errors to the console, throw, or request anything but itself.
type browser struct {
	ctx context.Context

	mu       sync.Mutex
	allowed  map[string]bool // the pages' own file:// URLs
	problems []string
}

func newBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)

	b := &browser{allowed: map[string]bool{}}
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(b.listen))
	t.Cleanup(cancelTab)
	b.ctx = tabCtx
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// listen runs in the tab's event loop: it only records.
func (b *browser) listen(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				var s string
				if json.Unmarshal(a.Value, &s) != nil {
					s = strings.TrimSpace(string(a.Value) + " " + a.Description)
				}
				args = append(args, s)
			}
			problem = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		problem = "exception: " + d.Text
		if d.Exception != nil {
			problem += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			problem = fmt.Sprintf("log error (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		b.mu.Lock()
		ok := b.allowed[ev.Request.URL]
		b.mu.Unlock()
		if !ok {
			problem = "request: " + ev.Request.URL
		}
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

// open writes page to a file, loads it and returns what it did wrong.
func (b *browser) open(t *testing.T, name string, page []byte) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	u := (&url.URL{Scheme: "file", Path: path}).String()
	b.mu.Lock()
	b.allowed[u] = true
	b.problems = nil
	b.mu.Unlock()

	if err := chromedp.Do(b.ctx, chromedp.Navigate(u)); err != nil {
		t.Fatalf("load %s: %v", u, err)
	}
	// A round trip to the page: the events sent before its answer have
	// reached listen by then.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.readyState`)); err != nil {
		t.Fatalf("read %s: %v", u, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.problems
}

// media emulates a CSS media type ("print"), or stops with "".
func (b *browser) media(t *testing.T, media string) {
	t.Helper()
	set := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: media})
		return chromedp.Void{}, err
	}
	if err := chromedp.Do(b.ctx, set); err != nil {
		t.Fatalf("emulate media %q: %v", media, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// save writes a screenshot or PDF to the screenshot folder and logs where.
func save(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", path)
}

// The HTML report in a real browser: it loads with no console error, no
// exception and no request but the page itself, on screen and printed,
// and the test leaves screenshots of both.
func TestHTML_Browser(t *testing.T) {
	b := newBrowser(t, chromium(t))
	dir := os.Getenv(screenshotEnv)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	// The checks can fail: a page that fetches, logs an error and throws
	// is caught on all three counts.
	bad := []byte(`<!DOCTYPE html><title>bad</title><img src="http://127.0.0.1:9/x.png" alt="">` +
		`<script>console.error("boom"); throw new Error("bang")</script>`)
	problems := strings.Join(b.open(t, "bad.html", bad), "\n")
	for _, want := range []string{"request: http://127.0.0.1:9/x.png", "console.error: boom", "exception: "} {
		if !strings.Contains(problems, want) {
			t.Errorf("the bad page's problems lack %q; got:\n%s", want, problems)
		}
	}

	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			p := f.plan()
			var page bytes.Buffer
			if err := HTML(&page, p); err != nil {
				t.Fatal(err)
			}
			b.media(t, "")
			if problems := b.open(t, "plan-"+f.name+".html", page.Bytes()); len(problems) > 0 {
				t.Errorf("the report page had problems:\n%s", strings.Join(problems, "\n"))
			}

			// What the page shows, read from the browser's DOM.
			if n, want := eval[int](t, b, `document.querySelectorAll("svg.chart rect.alerts").length`), chartRules(p); n != want {
				t.Errorf("chart has %d alert bars, want %d", n, want)
			}
			if n := eval[int](t, b, `document.scripts.length`); n != 0 {
				t.Errorf("page has %d scripts, want none", n)
			}
			if got := eval[string](t, b, `document.body.innerText`); !strings.Contains(got, "otbridge migration plan") {
				t.Errorf("page text lacks its title: %.200s", got)
			}
			if f.name == "full" {
				got := eval[string](t, b, `document.body.innerText`)
				for _, want := range []string{hostileRule, longCertPath} {
					if !strings.Contains(got, want) {
						t.Errorf("page text lacks %q", want)
					}
				}
			}
			// No element is wider than the window: long paths and rows wrap.
			if w := eval[int](t, b, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
				t.Errorf("page is %dpx wider than the window", w)
			}
			shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			save(t, dir, "plan-"+f.name+".png", shot)

			// Printed: no navigation, no dark background, and a PDF.
			b.media(t, "print")
			if d := eval[string](t, b, `getComputedStyle(document.querySelector("nav")).display`); d != "none" {
				t.Errorf("printed page shows the navigation (display %q)", d)
			}
			if bg := eval[string](t, b, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(255, 255, 255)" {
				t.Errorf("printed page background is %s, want white", bg)
			}
			shot, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("print screenshot: %v", err)
			}
			save(t, dir, "plan-"+f.name+"-print.png", shot)
			pdf, err := chromedp.Run(b.ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPreferCSSPageSize()))
			if err != nil {
				t.Fatalf("print to pdf: %v", err)
			}
			if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
				t.Errorf("print to pdf gave no PDF: %.20q", pdf)
			}
			save(t, dir, "plan-"+f.name+".pdf", pdf)
			b.mu.Lock()
			if len(b.problems) > 0 {
				t.Errorf("the printed page had problems:\n%s", strings.Join(b.problems, "\n"))
			}
			b.mu.Unlock()
		})
	}
}

// chartRules counts the rules the chart shows.
func chartRules(p *bridge.Plan) int {
	n := 0
	for _, a := range p.Appliances {
		for _, r := range a.Rules {
			if r.PerDay != nil {
				n++
			}
		}
	}
	return min(n, chartMaxRules)
}
