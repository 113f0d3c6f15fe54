package main

// vmx locks, the split-brain backstop real datastores provide (VMFS on-disk
// locks with heartbeats, NFS .lck files).
//
// While a VM on a shared datastore is powered on (or waiting on its power-on
// question), its process holds <vmx>.lck, a JSON record {owner, host, pid,
// heartbeat (unix ms), vmx} rewritten every ttl/5 by a goroutine. Another
// process may take the lock only when the record's heartbeat is older than the
// TTL; until then PowerOnVM_Task fails with FileLocked. Staleness is judged by
// the reader from the heartbeat timestamp, so SIGSTOP/SIGKILL of the owner make
// the lock go stale after the TTL, while "agent dead, VM alive" (control.go)
// keeps it fresh.
//
// If the owner wakes up (SIGCONT) and finds its lock taken over, the VM lost its
// lock: the process powers it off and posts an EventEx
// esx.problem.vm.lock.lost (the VMX would die on real ESXi).
//
// Check-and-take is made atomic between processes with flock(2) on <vmx>.lck.mutex,
// held for microseconds and acquired non-blocking with retries for up to 2 s.
//
// Flags:
//
//	-lock-ttl SECONDS   lock staleness TTL (default 10; fractions allowed)

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type lockRecord struct {
	Owner     string `json:"owner"`
	Host      string `json:"host"`
	Pid       int    `json:"pid"`
	Heartbeat int64  `json:"heartbeat"`
	Vmx       string `json:"vmx"`
}

type heldLock struct {
	dsPath string
	onLost func()
}

type lockManager struct {
	ttl     time.Duration
	owner   string
	host    func() string
	mu      sync.Mutex
	held    map[string]*heldLock // by absolute vmx path
	stop    chan struct{}
	stopped sync.Once
}

var locks = &lockManager{
	owner: fmt.Sprintf("%d-%s", os.Getpid(), uuid.New().String()[:8]),
	held:  map[string]*heldLock{},
	stop:  make(chan struct{}),
	host: func() string {
		h := findHost("")
		if h == nil {
			return ""
		}
		return h.Name
	},
}

type lockExtension struct{ ttlSeconds float64 }

func init() { register(40, &lockExtension{}) }

func (e *lockExtension) flags(fs *flag.FlagSet) {
	fs.Float64Var(&e.ttlSeconds, "lock-ttl", 10, "seconds after which a vmx lock without heartbeat is stale")
}

func (e *lockExtension) beforeCreate(*simulator.Model) error {
	if e.ttlSeconds <= 0 {
		return fmt.Errorf("-lock-ttl: expected a positive number of seconds, got %v", e.ttlSeconds)
	}
	locks.ttl = time.Duration(e.ttlSeconds * float64(time.Second))
	return nil
}

// The heartbeat starts before the inventory is restored: -shared-vm NAME:on takes a lock at startup.
func (e *lockExtension) afterCreate(*simulator.Model) error {
	go locks.heartbeatLoop()
	return nil
}

func (e *lockExtension) afterServe(*simulator.Model, *simulator.Server) error { return nil }

// shutdown releases every lock: a host shut down cleanly powers its VMs off.
func (e *lockExtension) shutdown() {
	locks.stopped.Do(func() { close(locks.stop) })
	locks.mu.Lock()
	paths := make([]string, 0, len(locks.held))
	for p := range locks.held {
		paths = append(paths, p)
	}
	locks.mu.Unlock()
	for _, p := range paths {
		locks.release(p)
	}
}

func (m *lockManager) interval() time.Duration {
	d := m.ttl / 5
	if d < 50*time.Millisecond {
		d = 50 * time.Millisecond
	}
	return d
}

// withMutex runs f while holding the cross-process mutex of one vmx.
func withMutex(absVmx string, f func() error) error {
	fd, err := os.OpenFile(absVmx+".lck.mutex", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer fd.Close()
	deadline := time.Now().Add(2 * time.Second)
	for {
		err = syscall.Flock(int(fd.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK || time.Now().After(deadline) {
			return fmt.Errorf("lock mutex busy: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer syscall.Flock(int(fd.Fd()), syscall.LOCK_UN)
	return f()
}

func readLock(absVmx string) (*lockRecord, error) {
	data, err := ioutil.ReadFile(absVmx + ".lck")
	if err != nil {
		return nil, err
	}
	var rec lockRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

func (m *lockManager) writeLock(absVmx, dsPath string) error {
	rec := lockRecord{Owner: m.owner, Host: m.host(), Pid: os.Getpid(), Heartbeat: time.Now().UnixMilli(), Vmx: dsPath}
	data, _ := json.Marshal(rec)
	tmp := fmt.Sprintf("%s.lck.tmp.%d", absVmx, os.Getpid())
	if err := ioutil.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, absVmx+".lck")
}

func (m *lockManager) stale(rec *lockRecord) bool {
	return time.Since(time.UnixMilli(rec.Heartbeat)) > m.ttl
}

// acquire takes the lock of a vmx for this process, or returns FileLocked.
func (m *lockManager) acquire(absVmx, dsPath string, onLost func()) types.BaseMethodFault {
	locked := &types.FileLocked{FileFault: types.FileFault{File: dsPath}}
	err := withMutex(absVmx, func() error {
		rec, err := readLock(absVmx)
		if err == nil && rec.Owner != m.owner && !m.stale(rec) {
			return fmt.Errorf("held by %s (pid %d), heartbeat %s ago", rec.Host, rec.Pid, time.Since(time.UnixMilli(rec.Heartbeat)).Round(time.Millisecond))
		}
		if err == nil && rec.Owner != m.owner {
			log.Printf("vmx lock %s: breaking stale lock of %s (pid %d), heartbeat %s ago", dsPath, rec.Host, rec.Pid, time.Since(time.UnixMilli(rec.Heartbeat)).Round(time.Millisecond))
		}
		return m.writeLock(absVmx, dsPath)
	})
	if err != nil {
		log.Printf("vmx lock %s: %v", dsPath, err)
		return locked
	}
	m.mu.Lock()
	m.held[absVmx] = &heldLock{dsPath: dsPath, onLost: onLost}
	m.mu.Unlock()
	return nil
}

// release drops the lock if this process still owns it.
func (m *lockManager) release(absVmx string) {
	m.mu.Lock()
	_, ok := m.held[absVmx]
	delete(m.held, absVmx)
	m.mu.Unlock()
	if !ok {
		return
	}
	_ = withMutex(absVmx, func() error {
		if rec, err := readLock(absVmx); err == nil && rec.Owner == m.owner {
			return os.Remove(absVmx + ".lck")
		}
		return nil
	})
}

func (m *lockManager) holds(absVmx string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.held[absVmx]
	return ok
}

func (m *lockManager) heartbeatLoop() {
	t := time.NewTicker(m.interval())
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		m.mu.Lock()
		held := make(map[string]*heldLock, len(m.held))
		for p, h := range m.held {
			held[p] = h
		}
		m.mu.Unlock()
		for absVmx, h := range held {
			lost := false
			err := withMutex(absVmx, func() error {
				rec, err := readLock(absVmx)
				if err == nil && rec.Owner != m.owner {
					lost = true
					log.Printf("vmx lock %s: lost to %s (pid %d)", h.dsPath, rec.Host, rec.Pid)
					return nil
				}
				return m.writeLock(absVmx, h.dsPath)
			})
			if err != nil {
				log.Printf("vmx lock %s: heartbeat: %v", h.dsPath, err)
			}
			if lost {
				m.mu.Lock()
				delete(m.held, absVmx)
				m.mu.Unlock()
				if h.onLost != nil {
					h.onLost()
				}
			}
		}
	}
}

// lockInfo describes a vmx's lock for the control channel.
func lockInfo(absVmx string) map[string]interface{} {
	rec, err := readLock(absVmx)
	if err != nil {
		return map[string]interface{}{"locked": false}
	}
	return map[string]interface{}{
		"locked":  !locks.stale(rec),
		"stale":   locks.stale(rec),
		"mine":    rec.Owner == locks.owner,
		"host":    rec.Host,
		"pid":     rec.Pid,
		"ageMs":   time.Since(time.UnixMilli(rec.Heartbeat)).Milliseconds(),
		"owner":   rec.Owner,
		"vmxPath": rec.Vmx,
	}
}
