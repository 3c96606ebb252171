package platform_test

import (
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/ocil-dev/ocil/layout/platform"
)

func ExampleParse() {
	for _, s := range []string{
		"linux/arm64/v8",
		"Linux/X86_64",
		"linux/arm64/v8:el8",
		"windows/amd64,osver=10.0.17763.5458",
		"windows(10.0.17763%2Bbuild.42+win32k)/amd64",
		"arm64",
		"linux//v8",
	} {
		p, err := platform.Parse(s)
		if err != nil {
			fmt.Println(errors.Is(err, platform.ErrInvalidPlatform), err)
			continue
		}
		fmt.Printf("%-45s os=%s arch=%s variant=%q os.version=%q os.features=%q\n",
			s, p.OS, p.Architecture, p.Variant, p.OSVersion, p.OSFeatures)
	}
	// Output:
	// linux/arm64/v8                                os=linux arch=arm64 variant="v8" os.version="" os.features=[]
	// Linux/X86_64                                  os=linux arch=amd64 variant="" os.version="" os.features=[]
	// linux/arm64/v8:el8                            os=linux arch=arm64 variant="v8" os.version="el8" os.features=[]
	// windows/amd64,osver=10.0.17763.5458           os=windows arch=amd64 variant="" os.version="10.0.17763.5458" os.features=[]
	// windows(10.0.17763%2Bbuild.42+win32k)/amd64   os=windows arch=amd64 variant="" os.version="10.0.17763+build.42" os.features=["win32k"]
	// true parse platform "arm64": specify os/arch
	// true parse platform "linux//v8": empty component
}

func ExampleFormat() {
	fmt.Println(platform.Format(ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8", OSVersion: "el8"}))
	fmt.Println(platform.Format(ocispec.Platform{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763", OSFeatures: []string{"win32k"}}))
	fmt.Println(platform.Format(ocispec.Platform{OS: "darwin", Architecture: "arm64", OSVersion: "macOS 12.6"}))
	// Output:
	// linux/arm64/v8:el8
	// windows(10.0.17763+win32k)/amd64
	// darwin/arm64:macOS 12.6
}

func ExampleNormalize() {
	for _, p := range []ocispec.Platform{
		{OS: "linux", Architecture: "aarch64"},
		{OS: "linux", Architecture: "arm64", Variant: "v8"},
		{OS: "linux", Architecture: "armhf"},
		{OS: "macos", Architecture: "x86_64"},
		{Architecture: "amd64"},
	} {
		fmt.Printf("%s -> %s\n", platform.Format(p), platform.Format(platform.Normalize(p)))
	}
	// Output:
	// linux/aarch64 -> linux/arm64
	// linux/arm64/v8 -> linux/arm64
	// linux/armhf -> linux/arm/v7
	// macos/x86_64 -> darwin/amd64
	// /amd64 -> /amd64
}

func ExampleNewMatcher() {
	want, err := platform.Parse("windows/amd64:10.0.17763")
	if err != nil {
		panic(err)
	}
	m := platform.NewMatcher(want)

	index := []ocispec.Platform{
		{OS: "linux", Architecture: "amd64"},
		{OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.5458"},
		{OS: "windows", Architecture: "amd64", OSVersion: "10.0.20348.2340"},
		{OS: "unknown", Architecture: "unknown"},
	}
	for _, p := range index {
		if platform.IsUnknown(&p) {
			continue // an attestation manifest
		}
		fmt.Printf("%-36s %v\n", platform.Format(p), m.Match(p))
	}
	// Output:
	// linux/amd64                          false
	// windows/amd64:10.0.17763.5458        true
	// windows/amd64:10.0.20348.2340        false
}
