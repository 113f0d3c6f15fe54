package main

// A persisted inventory, as hostd keeps one: a restarted host comes back with
// the VMs it had registered (powered off), including a stale registration of a
// VM that meanwhile runs elsewhere. And VMs on shared datastores made at startup.
//
// Flags:
//
//	-state FILE            JSON {"vms":[{"path":"[shared-ds] vcsa/vcsa.vmx","name":"vcsa"}]}: VMs on shared
//	                       datastores registered in this process. Loaded at startup (each is registered again,
//	                       powered off; a vmx that is gone is skipped with a log line), rewritten atomically
//	                       after every register/create/unregister/destroy, so it survives SIGKILL.
//	-shared-vm SPEC        NAME[@DATASTORE][:on] (repeatable): make sure VM NAME exists on the shared datastore
//	                       (default: the only -datastore-dir) as [DATASTORE] NAME/NAME.vmx and is registered
//	                       here: registered if the vmx exists, else created (1 vCPU, 64 MB, one e1000 NIC on
//	                       "VM Network"). ":on" powers it on before the ready line (waiting up to 10 s;
//	                       a FileLocked or a pending question is logged, not fatal).

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/simulator/esx"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type stateVM struct {
	Path string `json:"path"`
	Name string `json:"name"`
}

type inventoryState struct {
	VMs []stateVM `json:"vms"`
}

type inventoryFile struct {
	mu      sync.Mutex
	file    string
	loading bool
	vms     map[types.ManagedObjectReference]stateVM
}

var inventory = &inventoryFile{vms: map[types.ManagedObjectReference]stateVM{}}

func (f *inventoryFile) add(ref types.ManagedObjectReference, path, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.vms[ref] = stateVM{Path: path, Name: name}
	f.saveLocked()
}

func (f *inventoryFile) forget(ref types.ManagedObjectReference) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.vms[ref]; ok {
		delete(f.vms, ref)
		f.saveLocked()
	}
}

func (f *inventoryFile) saveLocked() {
	if f.file == "" || f.loading {
		return
	}
	st := inventoryState{VMs: []stateVM{}}
	for _, v := range f.vms {
		st.VMs = append(st.VMs, v)
	}
	sort.Slice(st.VMs, func(i, j int) bool { return st.VMs[i].Path < st.VMs[j].Path })
	data, _ := json.MarshalIndent(st, "", "  ")
	tmp := fmt.Sprintf("%s.tmp.%d", f.file, os.Getpid())
	if err := ioutil.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		log.Printf("-state: %v", err)
		return
	}
	if err := os.Rename(tmp, f.file); err != nil {
		log.Printf("-state: %v", err)
	}
}

type stateExtension struct {
	sharedVMs listFlag
}

func init() { register(60, &stateExtension{}) }

func (e *stateExtension) flags(fs *flag.FlagSet) {
	fs.StringVar(&inventory.file, "state", "", "persist VMs registered on shared datastores in this JSON file")
	fs.Var(&e.sharedVMs, "shared-vm", "NAME[@DATASTORE][:on]: a VM on a shared datastore (repeatable)")
}

func (e *stateExtension) beforeCreate(*simulator.Model) error { return nil }

func (e *stateExtension) afterCreate(*simulator.Model) error {
	if inventory.file != "" {
		if err := restoreInventory(); err != nil {
			return err
		}
	}
	for _, spec := range e.sharedVMs {
		if err := ensureSharedVM(spec); err != nil {
			return fmt.Errorf("-shared-vm %s: %w", spec, err)
		}
	}
	return nil
}

func (e *stateExtension) afterServe(*simulator.Model, *simulator.Server) error { return nil }
func (e *stateExtension) shutdown()                                            {}

func restoreInventory() error {
	data, err := ioutil.ReadFile(inventory.file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("-state: %w", err)
	}
	var st inventoryState
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("-state %s: %w", inventory.file, err)
	}
	// Registering rewrites the file; keep the old content until every VM is back.
	inventory.mu.Lock()
	inventory.loading = true
	inventory.mu.Unlock()
	for _, v := range st.VMs {
		if _, err := registerVM(v.Path, v.Name); err != nil {
			log.Printf("-state: %s not restored: %v", v.Path, err)
		} else {
			log.Printf("-state: %s restored (powered off)", v.Path)
		}
	}
	inventory.mu.Lock()
	inventory.loading = false
	inventory.saveLocked()
	inventory.mu.Unlock()
	return nil
}

// hostFor returns the host to place a VM on datastore ds: the first host that mounts it.
func hostFor(dsName string) (*simulator.HostSystem, error) {
	for _, h := range allHosts() {
		for _, ref := range h.Datastore {
			if ds, ok := simulator.Map.Get(ref).(*simulator.Datastore); ok && ds.Name == dsName {
				return h, nil
			}
		}
	}
	return nil, fmt.Errorf("no host mounts datastore %q", dsName)
}

func poolOf(h *simulator.HostSystem) *types.ManagedObjectReference {
	switch cr := simulator.Map.Get(*h.Parent).(type) {
	case *simulator.ClusterComputeResource:
		return cr.ResourcePool
	case *mo.ComputeResource:
		return cr.ResourcePool
	}
	return nil
}

func vmFolderOf(h *simulator.HostSystem) (*simulator.Folder, error) {
	dc := datacenterOf(h.Self)
	if dc == nil {
		return nil, fmt.Errorf("host %s has no datacenter", h.Name)
	}
	f, ok := simulator.Map.Get(dc.VmFolder).(*simulator.Folder)
	if !ok {
		return nil, fmt.Errorf("datacenter %s has no VM folder", dc.Name)
	}
	return f, nil
}

func datastoreOf(dsPath string) string {
	if i := strings.Index(dsPath, "]"); strings.HasPrefix(dsPath, "[") && i > 0 {
		return dsPath[1:i]
	}
	return ""
}

// taskResult waits for an internal task; giveUp (optional) ends the wait early with an error.
func taskResult(ref types.ManagedObjectReference, timeout time.Duration, giveUp ...func() error) (types.AnyType, error) {
	deadline := time.Now().Add(timeout)
	for {
		for _, f := range giveUp {
			if err := f(); err != nil {
				return nil, err
			}
		}
		t, ok := simulator.Map.Get(ref).(*simulator.Task)
		if !ok {
			return nil, fmt.Errorf("task %s vanished", ref.Value)
		}
		var state types.TaskInfoState
		var res types.AnyType
		var lmf *types.LocalizedMethodFault
		simulator.Map.WithLock(t, func() { state, res, lmf = t.Info.State, t.Info.Result, t.Info.Error })
		switch state {
		case types.TaskInfoStateSuccess:
			return res, nil
		case types.TaskInfoStateError:
			return nil, fmt.Errorf("%T %s", lmf.Fault, lmf.LocalizedMessage)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("task %s still %s after %s", ref.Value, state, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func registerVM(dsPath, name string) (types.ManagedObjectReference, error) {
	h, err := hostFor(datastoreOf(dsPath))
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	folder, err := vmFolderOf(h)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	ctx := internalContext()
	ctx.Caller = &folder.Self
	var res *methods.RegisterVM_TaskBody
	simulator.Map.WithLock(folder, func() {
		res = folder.RegisterVMTask(ctx, &types.RegisterVM_Task{
			This: folder.Self, Path: dsPath, Name: name, Pool: poolOf(h), Host: &h.Self,
		}).(*methods.RegisterVM_TaskBody)
	})
	out, err := taskResult(res.Res.Returnval, 10*time.Second)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	return out.(types.ManagedObjectReference), nil
}

func createSharedVM(dsName, name string) (types.ManagedObjectReference, error) {
	h, err := hostFor(dsName)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	folder, err := vmFolderOf(h)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	nic := esx.EthernetCard
	nic.Backing = &types.VirtualEthernetCardNetworkBackingInfo{
		VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: "VM Network"},
	}
	spec := types.VirtualMachineConfigSpec{
		Name:     name,
		GuestId:  string(types.VirtualMachineGuestOsIdentifierOtherGuest64),
		NumCPUs:  1,
		MemoryMB: 64,
		Files:    &types.VirtualMachineFileInfo{VmPathName: fmt.Sprintf("[%s] %s/%s.vmx", dsName, name, name)},
		DeviceChange: []types.BaseVirtualDeviceConfigSpec{
			&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: &nic},
		},
	}
	ctx := internalContext()
	ctx.Caller = &folder.Self
	var res *methods.CreateVM_TaskBody
	simulator.Map.WithLock(folder, func() {
		res = folder.CreateVMTask(ctx, &types.CreateVM_Task{This: folder.Self, Config: spec, Pool: *poolOf(h), Host: &h.Self}).(*methods.CreateVM_TaskBody)
	})
	out, err := taskResult(res.Res.Returnval, 10*time.Second)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	return out.(types.ManagedObjectReference), nil
}

func ensureSharedVM(spec string) error {
	on := strings.HasSuffix(spec, ":on")
	spec = strings.TrimSuffix(spec, ":on")
	name, dsName := spec, ""
	if i := strings.Index(spec, "@"); i > 0 {
		name, dsName = spec[:i], spec[i+1:]
	}
	if dsName == "" {
		if len(sharedDatastores) != 1 {
			return fmt.Errorf("name the datastore (NAME@DATASTORE): %d shared datastores", len(sharedDatastores))
		}
		for n := range sharedDatastores {
			dsName = n
		}
	}
	dsPath := fmt.Sprintf("[%s] %s/%s.vmx", dsName, name, name)
	abs, _, ok := sharedFile(dsPath)
	if !ok {
		return fmt.Errorf("%q is not a -datastore-dir datastore", dsName)
	}
	var ref types.ManagedObjectReference
	if existing := vmByPath(dsPath); existing != nil {
		ref = existing.Self
	} else if _, err := os.Stat(abs); err == nil {
		if ref, err = registerVM(dsPath, name); err != nil {
			return err
		}
	} else {
		if ref, err = createSharedVM(dsName, name); err != nil {
			return err
		}
	}
	if !on {
		return nil
	}
	w, ok := simulator.Map.Get(ref).(*sharedVM)
	if !ok {
		return fmt.Errorf("%s is not a shared-datastore VM", dsPath)
	}
	if w.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
		return nil
	}
	ctx := internalContext()
	ctx.Caller = &w.Self
	var res *methods.PowerOnVM_TaskBody
	simulator.Map.WithLock(w, func() {
		res = w.PowerOnVMTask(ctx, &types.PowerOnVM_Task{This: w.Self}).(*methods.PowerOnVM_TaskBody)
	})
	questionPending := func() error {
		w.qmu.Lock()
		defer w.qmu.Unlock()
		if w.question != nil {
			return fmt.Errorf("question %s pending (the task waits for AnswerVM)", w.question.id)
		}
		return nil
	}
	if _, err := taskResult(res.Res.Returnval, 10*time.Second, questionPending); err != nil {
		log.Printf("-shared-vm %s: power on: %v", name, err)
	}
	return nil
}

func vmByPath(dsPath string) *simulator.VirtualMachine {
	for _, e := range simulator.Map.All("VirtualMachine") {
		if vm := asVM(e); vm != nil && vm.Config.Files.VmPathName == dsPath {
			return vm
		}
	}
	return nil
}
