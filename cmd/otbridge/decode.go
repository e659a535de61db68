package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/otbridge/otbridge/bridge"
	"github.com/otbridge/otbridge/legacy"
	"github.com/otbridge/otbridge/legacy/cef"
	"github.com/otbridge/otbridge/legacy/inventory"
	"github.com/otbridge/otbridge/legacy/leef"
	"github.com/otbridge/otbridge/legacy/sensorapi"
	"github.com/otbridge/otbridge/legacy/syslog"
)

// decoded is one output object of `otbridge decode`: the parts a message
// has, and the normalised alert when it is one.
type decoded struct {
	// Line is the input line (1-based) for line formats; Index the element
	// of an API JSON document (0-based).
	Line     int           `json:"line,omitempty"`
	Index    *int          `json:"index,omitempty"`
	Syslog   *syslogView   `json:"syslog,omitempty"`
	CEF      *cefView      `json:"cef,omitempty"`
	LEEF     *leefView     `json:"leef,omitempty"`
	Alert    *bridge.Alert `json:"alert,omitempty"`
	NotAlert string        `json:"not_alert,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
}

type syslogView struct {
	Format         string     `json:"format"`
	Priority       *int       `json:"priority,omitempty"`
	Facility       *int       `json:"facility,omitempty"`
	Severity       *int       `json:"severity,omitempty"`
	Timestamp      *time.Time `json:"timestamp,omitempty"`
	Hostname       string     `json:"hostname,omitempty"`
	AppName        string     `json:"app_name,omitempty"`
	ProcID         string     `json:"proc_id,omitempty"`
	MsgID          string     `json:"msg_id,omitempty"`
	StructuredData string     `json:"structured_data,omitempty"`
	Message        string     `json:"message"`
}

type cefView struct {
	Version       int               `json:"version"`
	Vendor        string            `json:"vendor"`
	Product       string            `json:"product"`
	DeviceVersion string            `json:"device_version"`
	SignatureID   string            `json:"signature_id"`
	Name          string            `json:"name"`
	Severity      string            `json:"severity"`
	Extensions    map[string]string `json:"extensions"`
}

type leefView struct {
	Version        string            `json:"version"`
	Vendor         string            `json:"vendor"`
	Product        string            `json:"product"`
	ProductVersion string            `json:"product_version"`
	EventID        string            `json:"event_id"`
	Delimiter      string            `json:"delimiter"`
	Attributes     map[string]string `json:"attributes"`
}

func viewSyslog(h *syslog.Header) *syslogView {
	v := &syslogView{
		Format:         h.Format.String(),
		Hostname:       h.Hostname,
		AppName:        h.AppName,
		ProcID:         h.ProcID,
		MsgID:          h.MsgID,
		StructuredData: h.StructuredData,
		Message:        h.Body,
	}
	if h.Priority.Valid() {
		pri, fac, sev := int(h.Priority), int(h.Priority.Facility()), int(h.Priority.Severity())
		v.Priority, v.Facility, v.Severity = &pri, &fac, &sev
	}
	if !h.Timestamp.IsZero() {
		v.Timestamp = &h.Timestamp
	}
	return v
}

func viewCEF(e *cef.Event) *cefView {
	return &cefView{
		Version: e.Version, Vendor: e.Vendor, Product: e.Product, DeviceVersion: e.DeviceVersion,
		SignatureID: e.SignatureID, Name: e.Name, Severity: e.Severity, Extensions: e.Extensions.Map(),
	}
}

func viewLEEF(m *leef.Message) *leefView {
	delim := m.Delimiter
	if delim == 0 {
		delim = leef.DefaultDelimiter
	}
	return &leefView{
		Version: m.Version, Vendor: m.Vendor, Product: m.Product, ProductVersion: m.ProductVersion,
		EventID: m.EventID, Delimiter: string(delim), Attributes: m.Map(),
	}
}

type decodeOptions struct {
	format   string
	timezone string
	api      string
	maxSize  int
}

func (a *app) decodeCommand() *cobra.Command {
	var o decodeOptions
	cmd := &cobra.Command{
		Use:   "decode [FILE|-]",
		Short: "Decode syslog, CEF, LEEF or API JSON alerts and print them as JSON",
		Long: `Decode reads messages, one per line, or one sensor or management console API
JSON document, from FILE or standard input, and prints one JSON object per
message: its syslog header, its CEF or LEEF event, and the normalised
Defender for IoT alert when the message is one. A message that fails to
decode is reported on stderr with its line number and reason; the others
go on, and the exit status is 1 if any failed.

With --format auto, input whose first character is [ or { is an API JSON
document; any other input is read line by line, each line a syslog message
or a bare CEF or LEEF line.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.decode(o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.format, "format", "auto", "input format: auto, cef, leef, syslog or api-json")
	f.StringVar(&o.timezone, "timezone", "UTC", "timezone of times written without one (the forwarding rule's timezone)")
	f.StringVar(&o.api, "api", "auto", "for api-json: which API the document came from: auto, sensor or console")
	f.IntVar(&o.maxSize, "max-message-size", legacy.DefaultMaxMessageSize, "largest message accepted, in bytes")
	return cmd
}

func (a *app) decode(o decodeOptions, args []string) error {
	loc, err := inventory.LoadTimezone(o.timezone)
	if err != nil {
		return &usageError{fmt.Errorf("--timezone: %w", err)}
	}
	if o.maxSize < 1 {
		return &usageError{fmt.Errorf("--max-message-size must be positive")}
	}
	api, err := sensorapi.ParseAPI(o.api)
	if err != nil {
		return &usageError{fmt.Errorf("--api: %w", err)}
	}
	var lineFormat legacy.Format
	if o.format != "api-json" {
		if lineFormat, err = legacy.ParseFormat(o.format); err != nil {
			return &usageError{fmt.Errorf("--format: %w (or api-json)", err)}
		}
	}

	name, in := "-", a.stdin
	if len(args) == 1 && args[0] != "-" {
		name = args[0]
		f, err := os.Open(name)
		if err != nil {
			return a.fail(exitFailure, "decode: %v", err)
		}
		defer f.Close()
		in = f
	}
	if name == "-" {
		name = "stdin"
	}
	br := bufio.NewReaderSize(in, o.maxSize+2)

	out := json.NewEncoder(a.stdout)
	out.SetEscapeHTML(false)
	var failed, total int
	if o.format == "api-json" || (lineFormat == legacy.FormatAuto && startsJSON(br)) {
		failed, total, err = a.decodeAPI(name, br, api, out)
	} else {
		dec := &legacy.MessageDecoder{Format: lineFormat, MaxSize: o.maxSize, Location: loc}
		failed, total, err = a.decodeLines(name, br, dec, out)
	}
	if err != nil {
		return a.fail(exitFailure, "decode %s: %v", name, err)
	}
	if failed > 0 {
		return a.fail(exitFailure, "decode %s: %d of %d messages failed", name, failed, total)
	}
	return nil
}

// startsJSON reports whether the first non-blank byte of the input opens a
// JSON array or object.
func startsJSON(br *bufio.Reader) bool {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			return false
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n':
			if err != nil {
				return false
			}
			continue
		case '[', '{':
			return true
		case 0xEF: // a UTF-8 byte order mark
			if bom, _ := br.Peek(n + 2); bytes.HasSuffix(bom, []byte("\xEF\xBB\xBF")) {
				n += 2
				continue
			}
		}
		return false
	}
}

// decodeLines decodes each non-blank line of the input. It returns how
// many lines failed out of how many, and an error only when the input
// cannot be read.
func (a *app) decodeLines(name string, br *bufio.Reader, dec *legacy.MessageDecoder, out *json.Encoder) (failed, total int, err error) {
	for lineNo := 1; ; lineNo++ {
		line, tooLong, rerr := readLine(br)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return failed, total, rerr
		}
		if tooLong || len(bytes.TrimSpace(line)) > 0 {
			total++
		}
		switch {
		case tooLong:
			failed++
			fmt.Fprintf(a.stderr, "%s:%d: message longer than %d bytes: skipped (raise --max-message-size if this is expected)\n", name, lineNo, dec.MaxSize)
		case len(bytes.TrimSpace(line)) > 0:
			msg, derr := dec.Decode(line)
			if derr != nil {
				failed++
				fmt.Fprintf(a.stderr, "%s:%d: %v\n", name, lineNo, derr)
				break
			}
			d := decoded{Line: lineNo, Alert: msg.Alert, NotAlert: msg.NotAlert, Warnings: msg.Warnings}
			if msg.Syslog != nil {
				d.Syslog = viewSyslog(msg.Syslog)
			}
			if msg.CEF != nil {
				d.CEF = viewCEF(msg.CEF)
			}
			if msg.LEEF != nil {
				d.LEEF = viewLEEF(msg.LEEF)
			}
			if err := out.Encode(d); err != nil {
				return failed, total, err
			}
		}
		if rerr != nil {
			return failed, total, nil
		}
	}
}

// readLine reads one line without its LF. A line longer than the reader's
// buffer is skipped up to its end and reported as tooLong; it is never
// held in memory whole.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	line, err = br.ReadSlice('\n')
	for errors.Is(err, bufio.ErrBufferFull) {
		tooLong = true
		_, err = br.ReadSlice('\n')
	}
	if tooLong {
		return nil, true, err
	}
	return bytes.TrimSuffix(line, []byte("\n")), false, err
}

// decodeAPI decodes one API JSON document. It returns how many alerts
// failed out of how many elements.
func (a *app) decodeAPI(name string, r io.Reader, api sensorapi.API, out *json.Encoder) (failed, total int, err error) {
	doc, err := io.ReadAll(io.LimitReader(r, sensorapi.DefaultMaxBytes+1))
	if err != nil {
		return 0, 0, err
	}
	dec := &sensorapi.Decoder{API: api}
	res, derr := dec.DecodeBytes(doc)
	if res == nil {
		return 0, 0, derr
	}
	total = len(res.Alerts) + len(res.Skipped)

	where := func(e *sensorapi.ElementError) string {
		line, col := lineCol(doc, e.Offset)
		return fmt.Sprintf("%s:%d:%d", name, line, col)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(a.stderr, "%s: warning: %v\n", where(w), w)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(a.stderr, "%s: %v\n", where(s), s)
	}
	failed = len(res.Skipped)

	// Print the alerts in document order, with their element index.
	for i, n := range alertIndexes(res) {
		if err := out.Encode(decoded{Index: &n, Alert: &res.Alerts[i]}); err != nil {
			return failed, total, err
		}
	}
	if derr != nil {
		return failed, total, fmt.Errorf("%w (the alerts before that point were printed)", derr)
	}
	return failed, total, nil
}

// alertIndexes returns, for each decoded alert of res, the index of its
// element in the document: the elements res skipped have none.
func alertIndexes(res *sensorapi.Result) []int {
	skipped := map[int]bool{}
	for _, s := range res.Skipped {
		skipped[s.Index] = true
	}
	out := make([]int, len(res.Alerts))
	idx := 0
	for i := range res.Alerts {
		for skipped[idx] {
			idx++
		}
		out[i] = idx
		idx++
	}
	return out
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(doc []byte, off int64) (line, col int) {
	if off > int64(len(doc)) {
		off = int64(len(doc))
	}
	before := doc[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
