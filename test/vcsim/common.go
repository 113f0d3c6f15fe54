package main

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// internalContext is a simulator.Context for calls the program makes itself
// (startup registrations, control commands, lost-lock power-offs). PostEvent
// reads ctx.Session.UserName, so a session is required.
func internalContext() *simulator.Context {
	return &simulator.Context{
		Context: context.Background(),
		Map:     simulator.Map,
		Session: &simulator.Session{
			UserSession: types.UserSession{Key: "esxkit-vcsim", UserName: "vpxuser"},
			Registry:    simulator.NewRegistry(),
		},
	}
}

// runTask mirrors simulator.Task.Run, but with a real localizedMessage for
// faults (Task.Run puts the Go type name there).
func runTask(t *simulator.Task, messages map[string]string) {
	simulator.Map.Update(t, []types.PropertyChange{
		{Name: "info.startTime", Val: time.Now()},
		{Name: "info.state", Val: types.TaskInfoStateRunning},
	})
	res, fault := t.Execute(t)
	state := types.TaskInfoStateSuccess
	var lmf interface{}
	if fault != nil {
		state = types.TaskInfoStateError
		kind := strings.TrimPrefix(fmt.Sprintf("%T", fault), "*types.")
		msg, ok := messages[kind]
		if !ok {
			msg = kind
		}
		lmf = types.LocalizedMethodFault{Fault: fault, LocalizedMessage: msg}
	}
	changes := []types.PropertyChange{
		{Name: "info.completeTime", Val: time.Now()},
		{Name: "info.state", Val: state},
		{Name: "info.error", Val: lmf},
	}
	if res != nil {
		// Map.Update with a typed nil panics, so only set a result we have.
		changes = append(changes, types.PropertyChange{Name: "info.result", Val: res})
	}
	simulator.Map.Update(t, changes)
}

// nameUUID derives a stable UUID from a name (same input, same UUID in every process).
func nameUUID(name string) string {
	sum := sha1.Sum([]byte(name))
	u, _ := uuid.FromBytes(sum[:16])
	u[6] = (u[6] & 0x0f) | 0x50
	u[8] = (u[8] & 0x3f) | 0x80
	return u.String()
}

// jsonFlag is a flag holding a JSON document decoded into v.
type jsonFlag struct {
	v   interface{}
	set bool
}

func (f *jsonFlag) String() string { return "" }
func (f *jsonFlag) Set(s string) error {
	f.set = true
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	return dec.Decode(f.v)
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// findHost returns the HostSystem with this name; "" means the only host (ESX mode) or the first one.
func findHost(name string) *simulator.HostSystem {
	for _, e := range simulator.Map.All("HostSystem") {
		h := e.(*simulator.HostSystem)
		if name == "" || h.Name == name {
			return h
		}
	}
	return nil
}

func allHosts() []*simulator.HostSystem {
	var out []*simulator.HostSystem
	for _, e := range simulator.Map.All("HostSystem") {
		out = append(out, e.(*simulator.HostSystem))
	}
	return out
}

// findVM returns the VM with this name, wrapped or not.
func findVM(name string) *simulator.VirtualMachine {
	for _, e := range simulator.Map.All("VirtualMachine") {
		if e.Entity().Name == name {
			if vm := asVM(e); vm != nil {
				return vm
			}
		}
	}
	return nil
}

// asVM digs the simulator VM out of a registry object (plain or our sharedVM wrapper).
func asVM(obj interface{}) *simulator.VirtualMachine {
	switch v := obj.(type) {
	case *simulator.VirtualMachine:
		return v
	case *sharedVM:
		return &v.VirtualMachine
	}
	return nil
}
