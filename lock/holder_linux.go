package lock

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// maxCmdline is how many characters of a holder's command line are shown.
const maxCmdline = 100

// maxHolders is how many holders are named; the rest are counted.
const maxHolders = 3

// describeHolder names the processes holding a flock on the file at path, as
// "held by pid 1234: cmd args", or returns "" when none can be found.
func describeHolder(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return holdersFromProc("/proc", uint64(st.Dev), uint64(st.Ino))
}

// holdersFromProc looks up the flock holders of inode ino on device dev (a st_dev
// value) in procRoot/locks and describes them with their procRoot/<pid>/cmdline.
func holdersFromProc(procRoot string, dev, ino uint64) string {
	f, err := os.Open(filepath.Join(procRoot, "locks"))
	if err != nil {
		return ""
	}
	defer f.Close()
	major, minor := devMajor(dev), devMinor(dev)
	pids := flockHolders(f, major, minor, ino)
	if len(pids) == 0 {
		return ""
	}
	var parts []string
	for i, pid := range pids {
		if i == maxHolders {
			parts = append(parts, fmt.Sprintf("and %d more", len(pids)-maxHolders))
			break
		}
		s := "pid " + strconv.Itoa(pid)
		if cmd := readCmdline(procRoot, pid); cmd != "" {
			s += ": " + cmd
		}
		parts = append(parts, s)
	}
	return "held by " + strings.Join(parts, "; ")
}

// flockHolders returns, in order of appearance and without repeats, the PIDs that
// hold a FLOCK lock on major:minor:ino according to r, which has the format of
// /proc/locks:
//
//	1: FLOCK  ADVISORY  WRITE 12345 fd:01:5678 0 EOF
//	1: -> FLOCK  ADVISORY  WRITE 12346 fd:01:5678 0 EOF
//
// The device numbers are hexadecimal, the inode decimal. Lines marked "->" are
// waiters, not holders, and are skipped, as are POSIX, OFD and lease locks.
func flockHolders(r io.Reader, major, minor uint32, ino uint64) []int {
	var pids []int
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] != "FLOCK" {
			continue
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil || pid <= 0 {
			continue
		}
		id := strings.Split(f[5], ":")
		if len(id) != 3 {
			continue
		}
		maj, err1 := strconv.ParseUint(id[0], 16, 32)
		mnr, err2 := strconv.ParseUint(id[1], 16, 32)
		in, err3 := strconv.ParseUint(id[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		if uint32(maj) != major || uint32(mnr) != minor || in != ino {
			continue
		}
		if !slices.Contains(pids, pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// devMajor and devMinor split a Linux st_dev value the way glibc's major() and
// minor() do.
func devMajor(dev uint64) uint32 {
	return uint32((dev>>8)&0x00000fff | (dev>>32)&0xfffff000)
}

func devMinor(dev uint64) uint32 {
	return uint32(dev&0x000000ff | (dev>>12)&0xffffff00)
}

// readCmdline returns the command line of pid with arguments joined by spaces,
// non-printable characters replaced, cut to maxCmdline characters; "" if unknown.
func readCmdline(procRoot string, pid int) string {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return ""
	}
	s := strings.TrimRight(string(b), "\x00")
	s = strings.ReplaceAll(s, "\x00", " ")
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > maxCmdline {
		s = string([]rune(s)[:maxCmdline]) + "..."
	}
	return s
}
