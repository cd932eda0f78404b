package billing

import "sync/atomic"

// clockMap is a map bounded to max entries that evicts with CLOCK (second chance): a hand
// sweeps the slots, clearing the referenced bit of entries used since its last pass and
// evicting the first entry it finds unused. So a full cache gives up one cold entry per new
// one, never its whole content at once. The caller serialises put, remove and clear; get may
// run beside other gets (it only sets the referenced bit, atomically).
type clockMap[V any] struct {
	max   int
	index map[string]int32
	slots []clockSlot[V]
	free  []int32 // slots emptied by remove
	hand  int
	// onEvict, when set, hears each entry evicted to make room (not those removed); it may
	// remove other keys.
	onEvict func(key string, v *V)
}

type clockSlot[V any] struct {
	key string
	val V
	ref uint32 // 1: used since the hand last passed (atomic: gets run side by side)
}

func newClockMap[V any](max int) *clockMap[V] {
	return &clockMap[V]{max: max, index: make(map[string]int32, min(max, 1<<16))}
}

func (c *clockMap[V]) len() int { return len(c.index) }

// get returns the entry of key and marks it used.
func (c *clockMap[V]) get(key string) (*V, bool) {
	i, ok := c.index[key]
	if !ok {
		return nil, false
	}
	s := &c.slots[i]
	if atomic.LoadUint32(&s.ref) == 0 {
		atomic.StoreUint32(&s.ref, 1)
	}
	return &s.val, true
}

// peek returns the entry of key without marking it used.
func (c *clockMap[V]) peek(key string) (*V, bool) {
	i, ok := c.index[key]
	if !ok {
		return nil, false
	}
	return &c.slots[i].val, true
}

// put stores v under key, evicting one cold entry when the map is full.
func (c *clockMap[V]) put(key string, v V) {
	if i, ok := c.index[key]; ok {
		c.slots[i].val = v
		c.slots[i].ref = 1
		return
	}
	i := c.alloc()
	s := &c.slots[i]
	s.key, s.val = key, v
	s.ref = 0 // a new entry earns its second chance by being used again
	c.index[key] = i
}

// full says whether a new key would evict another.
func (c *clockMap[V]) full() bool { return len(c.index) >= c.max }

func (c *clockMap[V]) alloc() int32 {
	if n := len(c.free); n > 0 {
		i := c.free[n-1]
		c.free = c.free[:n-1]
		return i
	}
	if len(c.slots) < c.max {
		c.slots = append(c.slots, clockSlot[V]{})
		return int32(len(c.slots) - 1)
	}
	// Every slot is used: at most two passes find one not referenced since the last pass.
	for {
		s := &c.slots[c.hand]
		i := int32(c.hand)
		c.hand = (c.hand + 1) % len(c.slots)
		if s.ref != 0 {
			s.ref = 0
			continue
		}
		delete(c.index, s.key)
		if c.onEvict != nil {
			c.onEvict(s.key, &s.val)
		}
		c.clearSlot(s)
		return i
	}
}

func (c *clockMap[V]) clearSlot(s *clockSlot[V]) {
	var zero V
	s.key, s.val, s.ref = "", zero, 0
}

// remove drops key's entry, if any.
func (c *clockMap[V]) remove(key string) {
	i, ok := c.index[key]
	if !ok {
		return
	}
	delete(c.index, key)
	c.clearSlot(&c.slots[i])
	c.free = append(c.free, i)
}

// clear drops every entry.
func (c *clockMap[V]) clear() {
	c.index = make(map[string]int32, min(c.max, 1<<16))
	c.slots, c.free, c.hand = nil, nil, 0
}
