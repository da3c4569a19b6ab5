//go:build race

package ohttp

const raceEnabled = true
