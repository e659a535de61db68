package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/otbridge/otbridge/bridge"
)

func TestHTML_Golden(t *testing.T) { goldenTest(t, "html") }

// fetchAttrs are the attributes that make a browser fetch something.
var fetchAttrs = map[string]bool{
	"src": true, "href": true, "xlink:href": true, "srcset": true, "action": true, "formaction": true,
	"poster": true, "data": true, "background": true, "manifest": true, "ping": true, "cite": true,
}

// fetchTags are the elements that fetch or run something.
var fetchTags = map[string]bool{
	"script": true, "link": true, "img": true, "iframe": true, "frame": true, "object": true, "embed": true,
	"base": true, "form": true, "audio": true, "video": true, "source": true, "picture": true, "image": true, "use": true,
}

var urlInAttr = regexp.MustCompile(`(?i)\b(src|href|srcset|action|poster|data)\s*=\s*["']?\s*(https?:)?//`)

// The page loads nothing: no element that fetches, no attribute with a
// URL but an anchor in the page, no url() or @import in its CSS, and a
// Content-Security-Policy that forbids the rest.
func TestHTML_SelfContained(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			out := render(t, "html", f.plan())
			if m := urlInAttr.Find(out); m != nil {
				t.Errorf("page has a URL in an attribute: %s", m)
			}
			for _, bad := range []string{"url(", "@import", "<script", "javascript:"} {
				if bytes.Contains(bytes.ToLower(out), []byte(bad)) {
					t.Errorf("page contains %q", bad)
				}
			}

			doc, err := html.Parse(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			var anchors []string
			csp := ""
			for n := range doc.Descendants() {
				if n.Type != html.ElementNode {
					continue
				}
				if fetchTags[n.Data] {
					t.Errorf("page has a <%s> element", n.Data)
				}
				for _, a := range n.Attr {
					key := a.Key
					if a.Namespace != "" {
						key = a.Namespace + ":" + a.Key
					}
					switch {
					case key == "id":
						ids[a.Val] = true
					case key == "href" && strings.HasPrefix(a.Val, "#"):
						anchors = append(anchors, a.Val[1:])
					case fetchAttrs[key]:
						t.Errorf("<%s %s=%q> may fetch", n.Data, key, a.Val)
					case key == "style" || strings.HasPrefix(key, "on"):
						t.Errorf("<%s %s=%q>: no inline styles or handlers", n.Data, key, a.Val)
					}
					if n.Data == "meta" && key == "content" && strings.Contains(a.Val, "default-src") {
						csp = a.Val
					}
				}
			}
			if csp != "default-src 'none'; style-src 'unsafe-inline'" {
				t.Errorf("Content-Security-Policy is %q", csp)
			}
			for _, a := range anchors {
				if !ids[a] {
					t.Errorf("link to #%s, which the page lacks", a)
				}
			}
		})
	}
}

// textOf returns the text of a parsed page, as a browser shows it
// without styles.
func textOf(t *testing.T, page []byte) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for n := range doc.Descendants() {
		if n.Type == html.TextNode && (n.Parent == nil || n.Parent.Data != "style") {
			b.WriteString(n.Data)
		}
	}
	return b.String()
}

// Hostile strings are escaped: none of them becomes markup, and every one
// of them reads as written.
func TestHTML_Escaping(t *testing.T) {
	p := fixturePlan()
	out := render(t, "html", p)
	for _, raw := range []string{`<script>alert("x")`, "<b>BACnet</b>", "<script>alert(1)"} {
		if bytes.Contains(out, []byte(raw)) {
			t.Errorf("page has %q unescaped", raw)
		}
	}
	text := textOf(t, out)
	for _, want := range []string{hostileRule, backtickRule, longCertPath, "Modbus | TCP, <b>BACnet</b>", `operator <script>alert(1)</script> & co | line 2`} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
}

func TestHTML_Chart(t *testing.T) {
	full := render(t, "html", fixturePlan())
	if n, want := bytes.Count(full, []byte(`<rect class="alerts"`)), chartRules(fixturePlan()); n != want || n == 0 {
		t.Errorf("chart has %d alert bars, want %d", n, want)
	}
	if !bytes.Contains(full, []byte(`<rect class="alerts" x="290" y="38" width="250.0" height="16"/>`)) {
		t.Error("the busiest rule's bar does not span the panel")
	}

	for _, f := range fixtures[1:] {
		out := render(t, "html", f.plan())
		if bytes.Contains(out, []byte("<svg")) {
			t.Errorf("%s: a chart without estimates", f.name)
		}
		if !bytes.Contains(out, []byte("there were no sample alerts to estimate from")) {
			t.Errorf("%s: the page does not say why there is no chart", f.name)
		}
	}

	// A large fleet: the busiest rules only, with a note on the others.
	p := fixturePlan()
	var rules []bridge.PlanRule
	for i := range chartMaxRules + 10 {
		rules = append(rules, bridge.PlanRule{
			Rule:   bridge.RuleRef{Appliance: "big", Rule: fmt.Sprintf("rule %02d", i)},
			Routed: true, Mode: bridge.ModeModern,
			PerDay: &bridge.Volume{Alerts: float64(i + 1), Compressed: float64(1000 * (i + 1))},
		})
	}
	p.Appliances = append(p.Appliances, bridge.PlanAppliance{Name: "big", Kind: bridge.ApplianceSensor, Rules: rules})
	out := render(t, "html", p)
	if n := bytes.Count(out, []byte(`<rect class="alerts"`)); n != chartMaxRules {
		t.Errorf("chart has %d bars, want %d", n, chartMaxRules)
	}
	if !bytes.Contains(out, []byte(fmt.Sprintf("The %d busiest rules are shown; 13 more are in the tables below.", chartMaxRules))) {
		t.Error("chart does not say how many rules it leaves out")
	}
	if !bytes.Contains(out, []byte(">big/rule 49</text>")) || bytes.Contains(out, []byte(">big/rule 00</text>")) {
		t.Error("chart does not show the busiest rules")
	}
}
