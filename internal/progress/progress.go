// Package progress draws a one-line progress indicator for long blob work on a terminal.
// It is silent when the output is not a terminal, so logs and CI output stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Bar redraws one line at most ten times a second.
type Bar struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	start time.Time
	last  time.Time
	drawn bool
}

// New returns a Bar writing to w, or nil (a valid, silent Bar) when w is not a terminal
// or quiet is set. NO_COLOR needs no handling: the bar uses no color.
func New(w io.Writer, label string, quiet bool) *Bar {
	if quiet || !IsTerminal(w) {
		return nil
	}
	return &Bar{w: w, label: label, start: time.Now()}
}

// IsTerminal reports whether w (or a reader) is a character device such as a terminal;
// /dev/null, the one character device scripts redirect to, is not.
func IsTerminal(w any) bool {
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

// Update shows done of total bytes. Safe for concurrent use; nil-safe.
func (b *Bar) Update(done, total int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if done < total && now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	pct := 100.0
	if total > 0 {
		pct = float64(done) * 100 / float64(total)
	}
	rate := float64(done) / max(now.Sub(b.start).Seconds(), 1e-3)
	fmt.Fprintf(b.w, "\r\033[K%s %5.1f%%  %s / %s  %s/s", b.label, pct, Bytes(done), Bytes(total), Bytes(int64(rate)))
	b.drawn = true
}

// Done clears the line. Nil-safe.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
	}
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
