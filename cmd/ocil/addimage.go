package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"

	"github.com/ocil-dev/ocil/layout"
)

// imageFlags are add's flags for --image.
func imageFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "image", Usage: "write a runnable container image whose one layer holds the files: SRC[=DEST]..."},
		&cli.StringFlag{Name: "compression", Usage: "compress the image's layer with `ALGORITHM`: gzip or zstd (default gzip)"},
		&cli.StringSliceFlag{Name: "entrypoint", Usage: "the image's entrypoint: one `ARG` per flag (repeatable), or a JSON array [\"ARG\",...]"},
		&cli.StringSliceFlag{Name: "cmd", Usage: "the image's default arguments: one `ARG` per flag (repeatable), or a JSON array [\"ARG\",...]"},
		&cli.StringSliceFlag{Name: "env", Usage: "`KEY=VALUE` in the image's environment (repeatable, in order)"},
		&cli.StringFlag{Name: "workdir", Usage: "the image's working folder `PATH`"},
		&cli.StringFlag{Name: "user", Usage: "the `USER[:GROUP]` the image runs as"},
		&cli.StringSliceFlag{Name: "label", Usage: "`KEY=VALUE` label in the image's config (repeatable)"},
		&cli.StringFlag{Name: "created", Usage: "the image's creation `TIME` (RFC 3339, Unix seconds, or now); default: SOURCE_DATE_EPOCH when set, else none"},
	}
}

// imageOnlyFlags are the flags that mean nothing without --image, artifactOnlyFlags
// those that mean nothing with it.
var (
	imageOnlyFlags    = []string{"compression", "entrypoint", "cmd", "env", "workdir", "user", "label", "created"}
	artifactOnlyFlags = []string{"artifact-type", "config", "platform-config", "annotation-file"}
)

// splitImageArg reads SRC[=DEST]: DEST is what follows the last "=/" (DEST is absolute),
// so a SRC may hold '=' anywhere but before a '/'. Nothing is trimmed or cleaned.
func splitImageArg(a string) layout.ImageFile {
	if i := strings.LastIndex(a, "=/"); i >= 0 {
		return layout.ImageFile{Src: a[:i], Dest: a[i+1:]}
	}
	return layout.ImageFile{Src: a}
}

// argvOpt reads --entrypoint or --cmd: a single value starting with '[' is a JSON array
// of strings (a Dockerfile's exec form); otherwise each value is one argument, as typed.
// nil when the flag was not given.
func argvOpt(c *cli.Context, name string) ([]string, error) {
	if !c.IsSet(name) {
		return nil, nil
	}
	vals := c.StringSlice(name)
	for _, v := range vals {
		if strings.HasPrefix(v, "[") && len(vals) > 1 {
			return nil, usagef("--%s %s: a JSON array gives the whole vector; give --%s once with it, or one argument per --%s", name, v, name, name)
		}
	}
	if len(vals) == 1 && strings.HasPrefix(vals[0], "[") {
		v := vals[0]
		if !utf8.ValidString(v) {
			return nil, usagef("--%s %q: not valid UTF-8", name, v)
		}
		var raw []json.RawMessage
		if err := json.Unmarshal([]byte(v), &raw); err != nil {
			return nil, usagef("--%s %s: not a JSON array of strings (%v); to pass an argument starting with '[', write it inside one: '[\"[\"]'", name, v, err)
		}
		out := make([]string, 0, len(raw))
		for _, r := range raw {
			var s string
			if len(r) == 0 || r[0] != '"' || json.Unmarshal(r, &s) != nil {
				return nil, usagef("--%s %s: not a JSON array of strings (%s is not a string)", name, v, r)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return vals, nil
}

// imageOptions reads add's --image flags.
func imageOptions(c *cli.Context) (layout.ImageOptions, error) {
	var opts layout.ImageOptions
	var err error
	opts.Compression = c.String("compression")
	if opts.Entrypoint, err = argvOpt(c, "entrypoint"); err != nil {
		return opts, err
	}
	if opts.Cmd, err = argvOpt(c, "cmd"); err != nil {
		return opts, err
	}
	opts.Env = c.StringSlice("env")
	opts.WorkingDir, opts.User = c.String("workdir"), c.String("user")
	if opts.Labels, err = parseAnnotations("--label", c.StringSlice("label")); err != nil {
		return opts, err
	}
	if opts.Created, err = createdTime(c.String("created"), c.IsSet("created")); err != nil {
		return opts, err
	}
	return opts, nil
}

// checkImageFlags refuses flags of the other kind of add.
func checkImageFlags(c *cli.Context) error {
	image := c.Bool("image")
	for _, f := range imageOnlyFlags {
		if !image && c.IsSet(f) {
			return usagef("add: --%s is for images: add --image", f)
		}
	}
	for _, f := range artifactOnlyFlags {
		if image && c.IsSet(f) {
			return usagef("add: --%s is for artifacts, not with --image", f)
		}
	}
	return nil
}

// addImage is add --image after the common checks: the files and options are all checked
// before the layout is created or changed.
func addImage(c *cli.Context, outOpts layout.OutputOptions, opts layout.ImageOptions, o *output) error {
	var files []layout.ImageFile
	for _, a := range c.Args().Tail() {
		f := splitImageArg(a)
		if f.Src == "" {
			return usagef("add --image %s: SRC is empty", a)
		}
		if _, err := os.Lstat(f.Src); errors.Is(err, fs.ErrNotExist) && f.Dest == "" && strings.Contains(a, "=") {
			return usagef("add --image %s: no such file (a DEST after '=' is an absolute path: SRC=/PATH)", a)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return usagef("add --image: give the image's files: SRC[=DEST]...")
	}
	rootfs, err := layout.PlanImage(files)
	if err != nil {
		return fmt.Errorf("add to %s: %w", c.Args().First(), err)
	}
	if err := layout.CheckImageOptions(opts); err != nil {
		return fmt.Errorf("add to %s: %w", c.Args().First(), err)
	}
	dst, err := layout.OpenOutput(c.Context, c.Args().First(), outOpts)
	if err != nil {
		return err
	}
	defer dst.Close()
	var m ocispec.Descriptor
	out := map[string]any{}
	err = dst.Write(c.Context, func(l *layout.Layout) error {
		var err error
		if m, err = l.PutImage(c.Context, rootfs, opts); err != nil {
			return fmt.Errorf("add to %s: %w", c.Args().First(), err)
		}
		out["manifest"] = m
		if dst.Tag == "" {
			replaced, err := l.SetSoleImage(c.Context, m)
			if err != nil {
				return err
			}
			out["replaced"] = replaced
			return nil
		}
		entry, replaced, err := l.AddToIndex(c.Context, dst.Tag, m)
		if err != nil {
			return err
		}
		out["index"], out["replaced"] = entry, replaced
		return nil
	})
	if err != nil {
		return err
	}
	if !o.text() {
		return o.print(c.App.Writer, out)
	}
	_, err = fmt.Fprintln(c.App.Writer, m.Digest)
	return err
}
