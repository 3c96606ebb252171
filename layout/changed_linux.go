package layout

import (
	"io/fs"
	"syscall"
	"time"
)

// changed is the later of a file's modification and status-change times: a hard link
// made a moment ago keeps its source's old mtime but gets a new ctime.
func changed(fi fs.FileInfo) time.Time {
	t := fi.ModTime()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if c := time.Unix(st.Ctim.Sec, st.Ctim.Nsec); c.After(t) {
			t = c
		}
	}
	return t
}
