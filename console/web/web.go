// Package web holds the console's browser assets (HTML, CSS and vanilla
// JavaScript), embedded into the binary so the console needs no files and
// no network at run time.
package web

import "embed"

// Assets holds static/index.html, static/app.css and static/app.js.
//
//go:embed static
var Assets embed.FS
