package modern

import (
	"bytes"
	"fmt"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Why the batcher or the service refused a row. A refused row can never be
// sent as it is: the caller dead-letters it with the reason.
const (
	// ReasonRowTooLarge: the row alone is over a request limit, even
	// compressed, or the service answered 413 to a request of that row
	// alone.
	ReasonRowTooLarge = "row_too_large"
	// ReasonNotObject: the row is not a JSON object.
	ReasonNotObject = "row_not_object"
	// ReasonRejected: the service answered 400 to a request of that row
	// alone.
	ReasonRejected = "rejected_by_service"
	// ReasonMapping: the row mapper could not turn the alert into a row.
	ReasonMapping = "mapping_failed"
)

// gzipLevel is klauspost/compress's default level (5). On CommonSecurityLog
// rows it compresses about 10x at three to four times the speed of the
// standard library's default level, which alone would cap a core near the
// throughput target (see the README's "Batching").
const gzipLevel = gzip.DefaultCompression

// RowError is a row the batcher refuses. Reason is one of the Reason
// constants.
type RowError struct {
	Reason string
	// Bytes is the row's size, and Compressed its size alone in a gzip
	// body when that was measured.
	Bytes      int
	Compressed int
	// Limit is the limit the row is over.
	Limit int
}

func (e *RowError) Error() string {
	switch {
	case e.Reason == ReasonNotObject:
		return fmt.Sprintf("cannot batch row: %d bytes that are not a JSON object", e.Bytes)
	case e.Compressed > 0:
		return fmt.Sprintf("cannot batch row: %d bytes compress to %d, over the %d-byte request limit", e.Bytes, e.Compressed, e.Limit)
	default:
		return fmt.Sprintf("cannot batch row: %d bytes, over the %d-byte request limit", e.Bytes, e.Limit)
	}
}

// Batch is one request body: a JSON array of rows, gzip-compressed when Gzip
// is set, within the limits of the batcher that made it.
type Batch struct {
	// Body is the request body as sent.
	Body []byte
	// Gzip says Body is gzip-compressed (Content-Encoding: gzip).
	Gzip bool
	// IDs are the callers' ids of the rows, in the order of the array.
	IDs []int
	// RawBytes is the size of the JSON array before compression.
	RawBytes int

	// ends[i] is the offset just past row i in the uncompressed array,
	// where a comma or the closing bracket follows.
	ends []int
}

// Len is the number of rows in the batch.
func (b *Batch) Len() int { return len(b.IDs) }

// Array returns the uncompressed JSON array of the batch.
func (b *Batch) Array() ([]byte, error) {
	if !b.Gzip {
		return b.Body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b.Body))
	if err != nil {
		return nil, fmt.Errorf("decompress batch: %w", err)
	}
	raw := make([]byte, 0, b.RawBytes)
	buf := bytes.NewBuffer(raw)
	if _, err := buf.ReadFrom(zr); err != nil {
		return nil, fmt.Errorf("decompress batch: %w", err)
	}
	return buf.Bytes(), nil
}

// split halves a batch of two rows or more, for a service that refused it
// whole (413, 400). The halves are encoded like the batch.
func (b *Batch) split() (left, right *Batch, err error) {
	n := len(b.IDs)
	if n < 2 {
		return nil, nil, fmt.Errorf("cannot split a batch of %d rows", n)
	}
	raw, err := b.Array()
	if err != nil {
		return nil, nil, err
	}
	if len(raw) != b.RawBytes || raw[b.ends[n-1]] != ']' {
		return nil, nil, fmt.Errorf("split batch: array of %d bytes does not match its %d rows", len(raw), n)
	}

	mid := n / 2
	cut := b.ends[mid-1] // the comma between the halves
	leftEnds := b.ends[:mid:mid]
	rightEnds := make([]int, n-mid)
	for i, e := range b.ends[mid:] {
		rightEnds[i] = e - cut
	}
	left, err = newBatch(raw[1:cut], leftEnds, b.IDs[:mid:mid], b.Gzip)
	if err != nil {
		return nil, nil, err
	}
	right, err = newBatch(raw[cut+1:b.ends[n-1]], rightEnds, b.IDs[mid:], b.Gzip)
	if err != nil {
		return nil, nil, err
	}
	return left, right, nil
}

// newBatch makes a batch of the rows, comma-separated in rows, whose ends
// are relative to the array that wraps them in brackets.
func newBatch(rows []byte, ends, ids []int, gz bool) (*Batch, error) {
	raw := make([]byte, 0, len(rows)+2)
	raw = append(raw, '[')
	raw = append(raw, rows...)
	raw = append(raw, ']')
	b := &Batch{Body: raw, Gzip: gz, IDs: ids, RawBytes: len(raw), ends: ends}
	if !gz {
		return b, nil
	}
	body, err := gzipBytes(raw)
	if err != nil {
		return nil, err
	}
	b.Body = body
	return b, nil
}

var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzipLevel)
	return zw
}}

// gzipBytes compresses p into a new slice.
func gzipBytes(p []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(p)/4 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(p); err != nil {
		return nil, fmt.Errorf("compress batch: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress batch: %w", err)
	}
	return buf.Bytes(), nil
}

// gzipBound is the most that n bytes written to a gzip stream since its
// last flush can add to the stream once it is closed. Deflate never
// expands data beyond stored blocks (5 bytes per block of up to 64 KiB);
// the rest covers the sync or final block marker, bit padding and the
// 8-byte gzip trailer, with a wide margin.
func gzipBound(n int) int { return n + n/1024 + 64 }

// gzipHeaderLen is the size of the gzip header the writer emits (no name,
// comment or extra field).
const gzipHeaderLen = 10

// Batcher packs rows into batches no larger than the API accepts: at most
// MaxBytes on the wire, at most MaxUncompressedBytes before compression,
// at most MaxRecords rows when set.
//
// With gzip, the compressed size of what was written since the last flush
// of the compressor is unknown, so the batcher counts it at its worst case
// (no compression at all). When a row would not fit under that count, it
// flushes the compressor to learn the real size and tries again; only when
// the row does not fit even then is the batch closed. A batch therefore
// never exceeds the wire limit, and fills to within about one row of it:
// with rows that compress tenfold, each flush uses up a tenth of the space
// left, so a full batch costs a few dozen flushes.
//
// A Batcher is not safe for concurrent use: one goroutine owns it.
type Batcher struct {
	cfg BatchConfig
	gz  bool
	now func() time.Time
	// bound is gzipBound; tests replace it to reach the split fallback.
	bound func(int) int

	// The open batch.
	ids   []int
	ends  []int
	raw   int       // bytes of the array so far, "[" included, "]" not
	first time.Time // when the first row was added

	// gzip: zbuf holds the compressed stream, zflushed is its length at
	// the last flush, pending the bytes written since. none: plain holds
	// the array. Both buffers are reused; a batch gets a copy.
	zw       *gzip.Writer
	zbuf     bytes.Buffer
	zflushed int
	pending  int
	plain    []byte
}

// NewBatcher returns a batcher for the batch settings of a config that
// WithDefaults completed. now is the clock that times FlushDelay; nil is
// time.Now.
func NewBatcher(cfg BatchConfig, now func() time.Time) (*Batcher, error) {
	if cfg.MaxBytes < 64 || cfg.MaxBytes > APILimitBytes {
		return nil, fmt.Errorf("new batcher: max bytes %d is out of range: 64 to %d", cfg.MaxBytes, APILimitBytes)
	}
	if cfg.MaxUncompressedBytes < cfg.MaxBytes {
		return nil, fmt.Errorf("new batcher: max uncompressed bytes %d is less than max bytes %d", cfg.MaxUncompressedBytes, cfg.MaxBytes)
	}
	if now == nil {
		now = time.Now
	}
	b := &Batcher{cfg: cfg, now: now, bound: gzipBound}
	switch cfg.Compression {
	case "gzip":
		b.gz = true
		b.zw, _ = gzip.NewWriterLevel(nil, gzipLevel)
	case "none":
	default:
		return nil, fmt.Errorf("new batcher: unknown compression %q (want gzip or none)", cfg.Compression)
	}
	return b, nil
}

// Len is the number of rows waiting in the open batch.
func (b *Batcher) Len() int { return len(b.ids) }

// Deadline is when the open batch is due because its oldest row has waited
// FlushDelay; ok is false when no row waits.
func (b *Batcher) Deadline() (t time.Time, ok bool) {
	if len(b.ids) == 0 {
		return time.Time{}, false
	}
	return b.first.Add(b.cfg.FlushDelay), true
}

// Due reports whether the oldest waiting row has waited FlushDelay: the
// caller should Flush.
func (b *Batcher) Due() bool {
	t, ok := b.Deadline()
	return ok && !b.now().Before(t)
}

// Add adds a row, one JSON object, under the caller's id, and returns the
// batches it completed: none, or the open batch closed because the row did
// not fit, or also the row on its own when it only fits alone. Add copies
// row. A row that can never be sent is refused with a *RowError and leaves
// the open batch as it was.
func (b *Batcher) Add(id int, row []byte) (ready []*Batch, err error) {
	if len(row) < 2 || row[0] != '{' || row[len(row)-1] != '}' {
		return nil, &RowError{Reason: ReasonNotObject, Bytes: len(row)}
	}
	alone := len(row) + 2
	if alone > b.cfg.MaxUncompressedBytes {
		return nil, &RowError{Reason: ReasonRowTooLarge, Bytes: len(row), Limit: b.cfg.MaxUncompressedBytes}
	}
	if !b.gz && alone > b.cfg.MaxBytes {
		return nil, &RowError{Reason: ReasonRowTooLarge, Bytes: len(row), Limit: b.cfg.MaxBytes}
	}

	if len(b.ids) > 0 && !b.fits(len(row)+1) {
		ready = b.close()
	}
	if len(b.ids) == 0 && !b.fits(len(row)+1) {
		// Only a gzip body can get here: the row fits compressed or not
		// at all.
		one, err := newBatch(row, []int{len(row) + 1}, []int{id}, true)
		if err != nil {
			return ready, err
		}
		if len(one.Body) > b.cfg.MaxBytes {
			return ready, &RowError{Reason: ReasonRowTooLarge, Bytes: len(row), Compressed: len(one.Body), Limit: b.cfg.MaxBytes}
		}
		return append(ready, one), nil
	}

	if err := b.write(row); err != nil {
		return ready, err
	}
	b.ids = append(b.ids, id)
	b.ends = append(b.ends, b.raw)
	if b.cfg.MaxRecords > 0 && len(b.ids) >= b.cfg.MaxRecords {
		ready = append(ready, b.close()...)
	}
	return ready, nil
}

// Flush closes the open batch and returns it, or nothing when no row
// waits.
func (b *Batcher) Flush() []*Batch {
	if len(b.ids) == 0 {
		return nil
	}
	return b.close()
}

// fits reports whether n more bytes of array (a row and its separator)
// fit in the open batch, with room for the closing bracket. With gzip it
// flushes the compressor when the worst case does not fit.
func (b *Batcher) fits(n int) bool {
	if b.raw+n+1 > b.cfg.MaxUncompressedBytes {
		return false
	}
	if !b.gz {
		return b.raw+n+1 <= b.cfg.MaxBytes
	}
	if len(b.ids) == 0 {
		return gzipHeaderLen+b.bound(n+1) <= b.cfg.MaxBytes
	}
	if b.zflushed+b.bound(b.pending+n+1) <= b.cfg.MaxBytes {
		return true
	}
	if b.pending == 0 {
		return false
	}
	if err := b.zw.Flush(); err != nil {
		return false // a bytes.Buffer does not fail; close the batch
	}
	b.zflushed, b.pending = b.zbuf.Len(), 0
	return b.zflushed+b.bound(n+1) <= b.cfg.MaxBytes
}

// The separators of the JSON array.
var (
	arrayOpen  = []byte{'['}
	arrayComma = []byte{','}
)

// write appends a row to the open batch, opening it if needed.
func (b *Batcher) write(row []byte) error {
	sep := arrayComma
	if len(b.ids) == 0 {
		sep = arrayOpen
		b.first = b.now()
		b.raw = 0
		if b.gz {
			b.zbuf.Reset()
			b.zw.Reset(&b.zbuf)
			b.zflushed, b.pending = gzipHeaderLen, 0
		} else {
			b.plain = b.plain[:0]
		}
	}
	b.raw += 1 + len(row)
	if !b.gz {
		b.plain = append(append(b.plain, sep...), row...)
		return nil
	}
	b.pending += 1 + len(row)
	if _, err := b.zw.Write(sep); err != nil {
		return fmt.Errorf("compress row: %w", err)
	}
	if _, err := b.zw.Write(row); err != nil {
		return fmt.Errorf("compress row: %w", err)
	}
	return nil
}

// close ends the open batch. Should the compressed body exceed the wire
// limit after all (it cannot while bound holds), it is split until every
// part fits.
func (b *Batcher) close() []*Batch {
	batch := &Batch{Gzip: b.gz, IDs: b.ids, RawBytes: b.raw + 1, ends: b.ends}
	// The next batch likely holds as many rows.
	b.ids, b.ends, b.raw = make([]int, 0, len(b.ids)), make([]int, 0, len(b.ends)), 0
	if !b.gz {
		batch.Body = append(bytes.Clone(b.plain), ']')
		return []*Batch{batch}
	}

	_, werr := b.zw.Write([]byte{']'})
	cerr := b.zw.Close()
	batch.Body = bytes.Clone(b.zbuf.Bytes())
	if werr != nil || cerr != nil || len(batch.Body) <= b.cfg.MaxBytes {
		return []*Batch{batch}
	}
	return b.fit(batch)
}

// fit splits a batch until each part is within the wire limit; a single
// row over it is left for the service to refuse.
func (b *Batcher) fit(batch *Batch) []*Batch {
	if len(batch.Body) <= b.cfg.MaxBytes || batch.Len() < 2 {
		return []*Batch{batch}
	}
	l, r, err := batch.split()
	if err != nil {
		return []*Batch{batch}
	}
	return append(b.fit(l), b.fit(r)...)
}
