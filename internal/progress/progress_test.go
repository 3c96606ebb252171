package progress

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// clock is a fake clock a test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestBar(t *testing.T, mode Mode, width int) (*Bar, *bytes.Buffer, *clock) {
	t.Helper()
	var buf bytes.Buffer
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := New(&buf, Config{Mode: mode, Label: "copy", Now: c.now, Width: func() int { return width }})
	t.Cleanup(Activate(b))
	return b, &buf, c
}

// frames splits terminal output into the lines drawn, each without its \r and \033[K.
func frames(s string) []string {
	var out []string
	for _, f := range strings.Split(s, "\r") {
		if f = strings.TrimSuffix(f, "\033[K"); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func TestModeFor(t *testing.T) {
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	haveTTY := err == nil
	if haveTTY {
		defer tty.Close()
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for _, tc := range []struct {
		flag  string
		quiet bool
		term  string
		w     io.Writer
		want  Mode
	}{
		{"auto", false, "xterm", &bytes.Buffer{}, Off},
		{"auto", false, "xterm", null, Off}, // /dev/null is no terminal
		{"plain", false, "dumb", &bytes.Buffer{}, Plain},
		{"plain", true, "xterm", &bytes.Buffer{}, Off}, // -q silences all progress
		{"none", false, "xterm", &bytes.Buffer{}, Off},
	} {
		got, err := ModeFor(tc.flag, tc.quiet, tc.term, tc.w)
		if err != nil || got != tc.want {
			t.Errorf("ModeFor(%q, %v, %q, %T) = %v, %v; want %v", tc.flag, tc.quiet, tc.term, tc.w, got, err, tc.want)
		}
	}
	if haveTTY {
		for term, want := range map[string]Mode{"xterm": Terminal, "dumb": Off} {
			if got, _ := ModeFor("auto", false, term, tty); got != want {
				t.Errorf("on /dev/tty with TERM=%s: %v, want %v", term, got, want)
			}
			if got, _ := ModeFor("auto", true, term, tty); got != Off {
				t.Errorf("on /dev/tty with -q: %v", got)
			}
		}
	}
	if _, err := ModeFor("fancy", false, "", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `--progress "fancy"`) {
		t.Errorf("an unknown mode: %v", err)
	}
	if New(&bytes.Buffer{}, Config{Mode: Off}) != nil {
		t.Error("New with Off is not nil")
	}
}

// Bytes are counted as they move, not when a blob is done: one 1 GiB blob in flight
// shows its progress, with rate and ETA from the fake clock.
func TestCountsBytesWithinABlob(t *testing.T) {
	_, buf, c := newTestBar(t, Terminal, 120)
	Begin("copy", 1<<30)
	c.advance(2 * time.Second)
	Add(200 << 20)
	got := frames(buf.String())
	if len(got) != 1 {
		t.Fatalf("drew %q, want one frame", buf.String())
	}
	for _, want := range []string{"copy copy", " 19% ", "200.0 MiB / 1.0 GiB", "100.0 MiB/s", "ETA 0:08", "[#######"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("frame %q lacks %q", got[0], want)
		}
	}
}

// Nothing shows for the first second, and a terminal line is redrawn at most every
// TerminalInterval however often bytes move.
func TestDelayAndRate(t *testing.T) {
	_, buf, c := newTestBar(t, Terminal, 80)
	Begin("hash", 1000)
	Add(10)
	c.advance(Delay - time.Millisecond)
	Add(10)
	if buf.Len() != 0 {
		t.Fatalf("drew %q before a second had passed", buf.String())
	}
	c.advance(time.Millisecond)
	Add(10)
	c.advance(TerminalInterval / 2)
	Add(10)
	c.advance(TerminalInterval / 2)
	Add(10)
	if n := len(frames(buf.String())); n != 2 {
		t.Errorf("drew %d frames, want 2: %q", n, buf.String())
	}
}

// The line fits the terminal: parts are dropped, never wrapped, on a narrow one.
func TestFitsWidth(t *testing.T) {
	for _, width := range []int{200, 80, 60, 40, 30, 20, 10} {
		var buf bytes.Buffer
		c := &clock{t: time.Unix(0, 0)}
		b := New(&buf, Config{Mode: Terminal, Label: "validate", Now: c.now, Width: func() int { return width }})
		b.Begin("hash", 3<<30)
		c.advance(3 * time.Second)
		b.add(1 << 30)
		got := frames(buf.String())
		if len(got) != 1 {
			t.Fatalf("width %d: drew %q", width, buf.String())
		}
		if n := len([]rune(got[0])); n >= width {
			t.Errorf("width %d: frame %q is %d wide", width, got[0], n)
		}
		if width >= 80 && !strings.Contains(got[0], "ETA 0:06") {
			t.Errorf("width %d: frame %q has no ETA", width, got[0])
		}
		if width >= 20 && !strings.Contains(got[0], "33%") {
			t.Errorf("width %d: frame %q has no percentage", width, got[0])
		}
	}
}

// Output written through Guard clears the line first: a digest printed at the end is
// never glued to the last frame.
func TestGuardClearsBeforeOutput(t *testing.T) {
	b, buf, c := newTestBar(t, Terminal, 80)
	var stdout bytes.Buffer
	out := b.Guard(io.MultiWriter(&stdout, buf)) // both on one screen
	Begin("copy", 100)
	c.advance(2 * time.Second)
	Add(50)
	out.Write([]byte("sha256:92b4\n"))
	if !strings.HasSuffix(buf.String(), "\033[K\r\033[Ksha256:92b4\n") {
		t.Errorf("screen %q: the frame was not cleared before the output", buf.String())
	}
	before := buf.Len()
	out.Write([]byte("more\n"))
	if got := buf.String()[before:]; got != "more\n" {
		t.Errorf("a second write with no frame showing wrote %q", got)
	}
	if g, ok := out.(interface{ Unwrap() io.Writer }); !ok || g.Unwrap() == nil {
		t.Error("a guarded writer does not unwrap")
	}
}

// The deactivate function clears the line and stops the counting.
func TestDeactivate(t *testing.T) {
	var buf bytes.Buffer
	c := &clock{t: time.Unix(0, 0)}
	b := New(&buf, Config{Mode: Terminal, Label: "merge", Now: c.now})
	stop := Activate(b)
	c.advance(2 * time.Second)
	Add(1)
	stop()
	if !strings.HasSuffix(buf.String(), "\r\033[K") {
		t.Errorf("not cleared at the end: %q", buf.String())
	}
	n := buf.Len()
	c.advance(time.Hour)
	Add(1)
	if buf.Len() != n {
		t.Errorf("drew after it was stopped: %q", buf.String()[n:])
	}
}

// Plain mode writes whole lines, no escapes, at most every PlainInterval.
func TestPlainLines(t *testing.T) {
	_, buf, c := newTestBar(t, Plain, 0)
	Begin("decompress", 1000<<20)
	for range 12 { // 12 seconds, 10 MiB a second
		c.advance(time.Second)
		Add(10 << 20)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("wrote %q, want 2 lines in 12 s", buf.String())
	}
	if strings.ContainsAny(buf.String(), "\r\033") {
		t.Errorf("plain output holds escapes: %q", buf.String())
	}
	want := "copy decompress  5%  50.0 MiB / 1000.0 MiB  10.0 MiB/s  ETA 1:35"
	if lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
}

// Unknown totals show the bytes and the rate only.
func TestUnknownTotal(t *testing.T) {
	_, buf, c := newTestBar(t, Plain, 0)
	c.advance(5 * time.Second)
	Add(5 << 20)
	if got := buf.String(); got != "copy  5.0 MiB  1.0 MiB/s\n" {
		t.Errorf("wrote %q", got)
	}
}

func TestReaderCounts(t *testing.T) {
	b, _, _ := newTestBar(t, Plain, 0)
	n, err := io.Copy(io.Discard, Reader(strings.NewReader(strings.Repeat("x", 5000))))
	if err != nil || n != 5000 || b.done.Load() != 5000 {
		t.Errorf("copied %d (%v), counted %d", n, err, b.done.Load())
	}
}

func TestNilBar(t *testing.T) {
	var b *Bar
	b.Begin("x", 1)
	b.Clear()
	var buf bytes.Buffer
	if b.Guard(&buf) != io.Writer(&buf) {
		t.Error("a nil Bar's Guard is not the writer itself")
	}
	Activate(b)()
	Add(1) // no active Bar: nothing happens
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 3 << 30: "3.0 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0:00", 8 * time.Second: "0:08", 95 * time.Second: "1:35", 3725 * time.Second: "1:02:05"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

// Bytes counted from many goroutines at once, while output goes through Guard, are all
// counted (run with -race, as make test does).
func TestConcurrentAdd(t *testing.T) {
	b, buf, c := newTestBar(t, Terminal, 80)
	c.advance(time.Hour) // every count is due for a frame
	out := b.Guard(io.Discard)
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 1000 {
				Add(1)
			}
			out.Write([]byte("x"))
		}()
	}
	for range 8 {
		<-done
	}
	if got := b.done.Load(); got != 8000 {
		t.Errorf("counted %d bytes, want 8000", got)
	}
	b.Clear()
	if !strings.HasSuffix(buf.String(), "\r\033[K") {
		t.Errorf("not cleared: %q", buf.String())
	}
}
