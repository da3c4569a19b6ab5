package main

// extraCommands lists the subcommands beyond version. Add one line per
// subcommand here; its implementation lives in its own file.
func extraCommands() []command {
	return []command{}
}
