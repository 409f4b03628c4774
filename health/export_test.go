package health

// WatcherCount returns the number of Watch calls registered with c.
func WatcherCount(c *Checker) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, set := range c.watchers {
		n += len(set)
	}
	return n
}
