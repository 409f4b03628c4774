package main

// ioCounts are a process's read and write system calls and its threads'
// context switches (see processIO).
type ioCounts struct {
	reads, writes, switches int64
}

func (a ioCounts) sub(b ioCounts) ioCounts {
	return ioCounts{reads: a.reads - b.reads, writes: a.writes - b.writes, switches: a.switches - b.switches}
}
