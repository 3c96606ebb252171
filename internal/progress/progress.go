// Package progress shows how far long work on blobs has got: bytes counted as they move
// (hashed, copied, compressed, decompressed), with rate and ETA, on one line of a
// terminal, or as a plain line every few seconds in a CI log.
//
// Library code reports bytes with Add and the start of a phase of known size with
// Begin; both cost one atomic load when no command shows progress. The counting is
// per process, as the terminal it is drawn on is: a command activates one Bar, and the
// bytes of every blob it moves, in whatever goroutine, are counted on it. The Bar draws
// from Add itself, at most every Interval, so that it needs no goroutine or ticker and a
// test drives it with a fake clock.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode says how progress is shown.
type Mode int

const (
	Off      Mode = iota // nothing
	Terminal             // one line, redrawn in place
	Plain                // a line every PlainInterval, for logs
)

const (
	// TerminalInterval is the least time between two redraws of a terminal line.
	TerminalInterval = 100 * time.Millisecond
	// PlainInterval is the least time between two plain lines.
	PlainInterval = 5 * time.Second
	// Delay is how long a command runs before progress first shows: a quick command
	// shows none.
	Delay = time.Second
)

// Bar is the progress of one command. Its methods are safe for concurrent use and a nil
// *Bar is a valid Bar that shows nothing.
type Bar struct {
	mode  Mode
	w     io.Writer
	label string
	now   func() time.Time
	width func() int

	done, total atomic.Int64
	phase       atomic.Pointer[string]

	mu       sync.Mutex // held while drawing or writing through Guard
	start    time.Time
	phaseAt  time.Time
	phaseOff int64 // done when the phase began
	last     time.Time
	drawn    bool // a terminal line is showing
}

// Config is what a Bar needs from its surroundings; tests give a fake clock and width.
type Config struct {
	Mode  Mode
	Label string           // the command, shown first
	Now   func() time.Time // time.Now when nil
	Width func() int       // the terminal's columns; 80 when nil or 0
}

// New returns a Bar drawing on w, or nil for Mode Off.
func New(w io.Writer, cfg Config) *Bar {
	if cfg.Mode == Off {
		return nil
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bar{mode: cfg.Mode, w: w, label: cfg.Label, now: cfg.Now, width: cfg.Width}
	b.start = b.now()
	b.phaseAt = b.start
	b.last = b.start.Add(Delay - b.interval()) // a terminal line first shows after Delay
	if b.mode == Plain {
		b.last = b.start // a log line, after PlainInterval
	}
	return b
}

// ModeFor chooses the mode for a flag value (auto, plain or none), --quiet, the TERM
// variable and the writer progress goes to: in auto, a bar only on a terminal that is
// not dumb.
func ModeFor(flag string, quiet bool, term string, w io.Writer) (Mode, error) {
	switch flag {
	case "none":
		return Off, nil
	case "plain":
		if quiet {
			return Off, nil
		}
		return Plain, nil
	case "auto", "":
		if quiet || term == "dumb" || !IsTerminal(w) {
			return Off, nil
		}
		return Terminal, nil
	}
	return Off, fmt.Errorf("--progress %q: want auto, plain or none", flag)
}

func (b *Bar) interval() time.Duration {
	if b.mode == Plain {
		return PlainInterval
	}
	return TerminalInterval
}

var active atomic.Pointer[Bar]

// Activate makes b the Bar that Add and Begin report to, until the returned function
// is called; that function also clears a terminal line. Nil-safe.
func Activate(b *Bar) (deactivate func()) {
	if b == nil {
		return func() {}
	}
	active.Store(b)
	return func() {
		active.CompareAndSwap(b, nil)
		b.Clear()
	}
}

// Add counts n bytes moved on the active Bar, if any, and redraws it when it is due.
func Add(n int) {
	if b := active.Load(); b != nil && n > 0 {
		b.add(int64(n))
	}
}

// Begin starts a phase (hashing, copying, writing a tarball, decompressing) of total
// bytes, 0 when not known, on the active Bar: the percentage, rate and ETA shown are the
// phase's.
func Begin(phase string, total int64) {
	if b := active.Load(); b != nil {
		b.Begin(phase, total)
	}
}

// Begin is the package's Begin for this Bar.
func (b *Bar) Begin(phase string, total int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.phase.Store(&phase)
	b.total.Store(total)
	b.phaseOff = b.done.Load()
	b.phaseAt = b.now()
}

// Reader counts what is read through r on the active Bar.
func Reader(r io.Reader) io.Reader { return countingReader{r} }

type countingReader struct{ r io.Reader }

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	Add(n)
	return n, err
}

func (b *Bar) add(n int64) {
	b.done.Add(n)
	// Lock, not TryLock: an add that skipped the draw while another goroutine drew could
	// be the last one, and the line would stay behind what was done. Drawing is a time
	// check unless a line is due, so the wait is short.
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drawLocked()
}

func (b *Bar) drawLocked() {
	now := b.now()
	if now.Sub(b.last) < b.interval() {
		return
	}
	b.last = now
	line := b.line(now)
	if b.mode == Plain {
		fmt.Fprintln(b.w, line)
		return
	}
	fmt.Fprint(b.w, "\r"+line+"\033[K")
	b.drawn = true
}

// line renders the progress at now, fitted to the width: the parts that matter least
// (the bar, then the ETA, then the rate) are left out first on a narrow terminal, and
// the line never reaches the last column, where a terminal would wrap it.
func (b *Bar) line(now time.Time) string {
	done := b.done.Load() - b.phaseOff
	total := b.total.Load()
	elapsed := now.Sub(b.phaseAt)
	head := b.label
	if p := b.phase.Load(); p != nil && *p != "" {
		head += " " + *p
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	var pct, size, rateS, eta string
	if total > 0 {
		done = min(done, total)
		pct = fmt.Sprintf("%3d%%", done*100/total)
		size = Bytes(done) + " / " + Bytes(total)
		if rate > 0 {
			eta = "ETA " + Duration(time.Duration(float64(total-done)/rate*float64(time.Second)))
		}
	} else {
		size = Bytes(done)
	}
	if rate > 0 {
		rateS = Bytes(int64(rate)) + "/s"
	}
	if b.mode == Plain {
		return join(head, strings.TrimSpace(pct), size, rateS, eta)
	}
	width := 80
	if b.width != nil {
		if w := b.width(); w > 0 {
			width = w
		}
	}
	room := width - 1
	for _, parts := range [][]string{
		{head, pct, "BAR", size, rateS, eta},
		{head, pct, size, rateS, eta},
		{head, pct, size, rateS},
		{head, pct, size},
		{head, pct},
		{pct},
	} {
		s := join(parts...)
		if !strings.Contains(s, "BAR") {
			if len([]rune(s)) <= room {
				return s
			}
			continue
		}
		barW := room - len([]rune(s)) + len("BAR") - 2
		if total <= 0 || barW < 10 {
			continue
		}
		barW = min(barW, 40)
		filled := int(int64(barW) * done / total)
		return strings.Replace(s, "BAR", "["+strings.Repeat("#", filled)+strings.Repeat("-", barW-filled)+"]", 1)
	}
	return ""
}

func join(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "  ")
}

// Clear takes a terminal line away. Nil-safe.
func (b *Bar) Clear() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.clearLocked()
}

func (b *Bar) clearLocked() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
}

// Guard returns a writer that clears the Bar's line before each write to w, so that
// output never lands on a progress line; the Bar draws again when it is next due.
// For a nil Bar it returns w itself.
func (b *Bar) Guard(w io.Writer) io.Writer {
	if b == nil {
		return w
	}
	return &guard{b: b, w: w}
}

type guard struct {
	b *Bar
	w io.Writer
}

func (g *guard) Write(p []byte) (int, error) {
	g.b.mu.Lock()
	defer g.b.mu.Unlock()
	g.b.clearLocked()
	return g.w.Write(p)
}

// Unwrap returns the writer guarded.
func (g *guard) Unwrap() io.Writer { return g.w }

// IsTerminal reports whether w (or a reader) is a character device such as a terminal;
// /dev/null, the one character device scripts redirect to, is not. A writer from Guard
// is looked through.
func IsTerminal(w any) bool {
	if g, ok := w.(interface{ Unwrap() io.Writer }); ok {
		return IsTerminal(g.Unwrap())
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}

// Bytes formats a byte count for people: 512 B, 1.5 KiB, 3.0 GiB.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Duration formats a time left as m:ss, or h:mm:ss past an hour.
func Duration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
