package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=..."; a build
// without it reports the module version or "dev".
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

func versionCommand() *command {
	return &command{
		name:    "version",
		summary: "cli.version.summary",
		usage:   "cli.version.usage",
		run: func(ctx context.Context, c *cli, args []string) error {
			_, err := fmt.Fprintln(c.stdout, "canhgac", versionString())
			return err
		},
	}
}
