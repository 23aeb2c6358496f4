// Package examples holds runnable example workflows (the .cwl and .yml
// files in this directory, with their tools and data). It has no Go API:
// its test runs every example through the flow binary and checks the
// files each one produces.
package examples
