package main

// ReconfigVM_Task publishes its changes to property collectors. Stock 0.24.2
// applies the spec without Map.Update, so WaitForUpdatesEx never hears of a
// changed boot order, firmware or name. When a reconfigure task succeeds, the
// VM's watched paths are compared with their last published values (a JSON
// fingerprint per path) and the changed ones are published.

import (
	"encoding/json"
	"reflect"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

var reconfigPaths = []struct {
	name string
	get  func(vm *simulator.VirtualMachine) interface{}
}{
	{"name", func(vm *simulator.VirtualMachine) interface{} { return vm.Name }},
	{"config.name", func(vm *simulator.VirtualMachine) interface{} { return vm.Config.Name }},
	{"summary.config.name", func(vm *simulator.VirtualMachine) interface{} { return vm.Summary.Config.Name }},
	{"config.bootOptions", func(vm *simulator.VirtualMachine) interface{} { return vm.Config.BootOptions }},
	{"config.firmware", func(vm *simulator.VirtualMachine) interface{} { return vm.Config.Firmware }},
	{"config.extraConfig", func(vm *simulator.VirtualMachine) interface{} { return vm.Config.ExtraConfig }},
	{"config.annotation", func(vm *simulator.VirtualMachine) interface{} { return vm.Config.Annotation }},
	{"config.guestId", func(vm *simulator.VirtualMachine) interface{} { return vm.Config.GuestId }},
	{"config.hardware.numCPU", func(vm *simulator.VirtualMachine) interface{} { return vm.Config.Hardware.NumCPU }},
	{"config.hardware.memoryMB", func(vm *simulator.VirtualMachine) interface{} { return vm.Config.Hardware.MemoryMB }},
	{"config.hardware.device", func(vm *simulator.VirtualMachine) interface{} { return vm.Config.Hardware.Device }},
}

var published = struct {
	sync.Mutex
	m map[types.ManagedObjectReference]map[string]string
}{m: map[types.ManagedObjectReference]map[string]string{}}

func fingerprint(v interface{}) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// rememberVM records a VM's current values as published (at creation).
func rememberVM(vm *simulator.VirtualMachine) {
	if vm.Config == nil {
		return
	}
	seen := map[string]string{}
	for _, p := range reconfigPaths {
		seen[p.name] = fingerprint(p.get(vm))
	}
	published.Lock()
	published.m[vm.Self] = seen
	published.Unlock()
}

// publishChanges runs after a successful reconfigure (the VM's registry lock is held by the caller's call).
func publishChanges(ref types.ManagedObjectReference) {
	obj := simulator.Map.Get(ref)
	vm := asVM(obj)
	if vm == nil || vm.Config == nil {
		return
	}
	published.Lock()
	seen := published.m[ref]
	if seen == nil {
		seen = map[string]string{}
		published.m[ref] = seen
	}
	var changes []types.PropertyChange
	for _, p := range reconfigPaths {
		v := p.get(vm)
		fp := fingerprint(v)
		if old, ok := seen[p.name]; ok && old == fp {
			continue
		}
		seen[p.name] = fp
		if rv := reflect.ValueOf(v); !rv.IsValid() || (rv.Kind() == reflect.Ptr || rv.Kind() == reflect.Slice) && rv.IsNil() {
			v = nil // Map.Update panics on a typed nil
		}
		changes = append(changes, types.PropertyChange{Name: p.name, Val: v})
	}
	published.Unlock()
	if len(changes) > 0 {
		simulator.Map.Update(obj, changes)
	}
}
