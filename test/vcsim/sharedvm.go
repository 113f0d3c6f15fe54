package main

// VMs on shared datastores behave like VMs on real ESXi hosts sharing storage.
//
// When a VM whose vmx is on a -datastore-dir datastore is created or registered,
// its registry object is swapped for a sharedVM (the simulator VM embedded by
// value) that overrides:
//
//   - PowerOnVM_Task: takes the vmx lock (vmlock.go; FileLocked if another live
//     process holds it), then, if the VM's location changed, raises the
//     msg.uuid.altered question and waits for AnswerVM before powering on.
//     The task runs asynchronously: clients poll info.state and runtime.question.
//   - AnswerVM (MethodNotFound in 0.24.2): choice "0" button.uuid.cancel fails the
//     power-on with RequestCanceled, "1" button.uuid.movedTheVM keeps uuid.bios, "2"
//     button.uuid.copiedTheVM gives the VM a new uuid.bios and new generated MACs.
//   - PowerOffVM_Task / SuspendVM_Task: release the lock (and cancel a pending question).
//
// Identity lives in the vmx file (vmx.go): on registration uuid.bios and vc.uuid
// are read from it (stock vcsim derives config.uuid from the path); a vmx created
// here gets displayName, uuid.bios, vc.uuid and uuid.location written.
//
// "Location changed" means: the vmx has a uuid.location, and it differs from the
// location computed where the power-on happens. What a location is depends on
//
//	-uuid-question host|path|never   (default host)
//	    host:  hash of (this host's hardware uuid, /vmfs/volumes/<ds uuid>/<path>) — a VM created
//	           or last powered on by another host asks; the case the failover tests exercise.
//	    path:  hash of /vmfs/volumes/<ds uuid>/<path> only — asks only when the datastore's uuid or
//	           the path changed (a resignatured snap- volume, copied files: see -datastore-uuid).
//	           This is what ESXi does on an HA-style re-register [unverified in a lab].
//	    never: no question.
//
// On every power-on the location is written back, so answering once suffices.
// A hand-written vmx without uuid.location never asks on its first power-on.

import (
	"flag"
	"fmt"
	"log"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

var questionPolicy = "host"

var faultMessages = map[string]string{
	"FileLocked":      "Failed to lock the file",
	"RequestCanceled": "The operation was canceled by the user",
	"FileNotFound":    "File not found",
	"InvalidState":    "The operation is not allowed in the current state.",
}

type pendingQuestion struct {
	id     string
	answer chan int32
}

type sharedVM struct {
	simulator.VirtualMachine // first field, by value: the property collector digs the mo type out of Field(0)

	absVmx   string
	qmu      sync.Mutex
	question *pendingQuestion
	starting bool
}

var questionSeq struct {
	sync.Mutex
	n int
}

type sharedVMExtension struct{}

func init() { register(50, &sharedVMExtension{}) }

func (e *sharedVMExtension) flags(fs *flag.FlagSet) {
	fs.StringVar(&questionPolicy, "uuid-question", "host", "when PowerOnVM_Task asks msg.uuid.altered: host, path or never")
}

func (e *sharedVMExtension) beforeCreate(*simulator.Model) error {
	switch questionPolicy {
	case "host", "path", "never":
		return nil
	}
	return fmt.Errorf("-uuid-question: expected host, path or never, got %q", questionPolicy)
}

func (e *sharedVMExtension) afterCreate(*simulator.Model) error {
	for _, obj := range simulator.Map.All("VirtualMachine") {
		if vm := asVM(obj); vm != nil {
			rememberVM(vm)
		}
	}
	simulator.Map.AddHandler(&vmWatcher{self: types.ManagedObjectReference{Type: "EsxkitVmWatcher", Value: "vm-watcher"}})
	return nil
}

func (e *sharedVMExtension) afterServe(*simulator.Model, *simulator.Server) error { return nil }
func (e *sharedVMExtension) shutdown()                                            {}

// vmWatcher wraps VMs on shared datastores once their create/register task has
// completed (the simulator no longer touches the original object by then), and
// publishes what a successful ReconfigVM_Task changed (reconfig_updates.go).
type vmWatcher struct{ self types.ManagedObjectReference }

func (w *vmWatcher) Reference() types.ManagedObjectReference { return w.self }
func (w *vmWatcher) PutObject(mo.Reference)                  {}

func (w *vmWatcher) UpdateObject(obj mo.Reference, _ []types.PropertyChange) {
	t, ok := obj.(*mo.Task)
	if !ok || t.Info.State != types.TaskInfoStateSuccess {
		return
	}
	switch t.Info.DescriptionId {
	case "Folder.createVm":
		if ref, ok := t.Info.Result.(types.ManagedObjectReference); ok {
			wrapShared(ref)
			if vm := asVM(simulator.Map.Get(ref)); vm != nil {
				rememberVM(vm)
			}
		}
	case "VirtualMachine.reconfigVm":
		if t.Info.Entity != nil {
			publishChanges(*t.Info.Entity)
		}
	}
}

func (w *vmWatcher) RemoveObject(ref types.ManagedObjectReference) {
	if ref.Type == "VirtualMachine" {
		inventory.forget(ref)
	}
}

func wrapShared(ref types.ManagedObjectReference) {
	vm, ok := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	abs, _, ok := sharedFile(vm.Config.Files.VmPathName)
	if !ok {
		return
	}
	w := &sharedVM{VirtualMachine: *vm, absVmx: abs}
	vmx := w.adoptVmx()
	swapObject(w)
	if vmx != nil {
		w.importHardware(vmx)
	}
	inventory.add(ref, vm.Config.Files.VmPathName, vm.Name)
}

// adoptVmx reads the VM's identity from its vmx, or writes it there for a new VM.
// It returns the vmx of a VM registered from an existing vmx (whose hardware is then applied).
func (vm *sharedVM) adoptVmx() *vmxFile {
	vmx, err := readVmx(vm.absVmx)
	if err != nil {
		log.Printf("%s: reading vmx: %v", vm.Config.Files.VmPathName, err)
		return nil
	}
	fresh := len(vmx.keys) == 0
	changed := false
	if id := parseVmxUUID(vmx.get("uuid.bios")); id != "" {
		vm.setUUID(id)
	} else {
		vmx.set("uuid.bios", vmxUUID(vm.Config.Uuid))
		changed = true
	}
	if id := parseVmxUUID(vmx.get("vc.uuid")); id != "" {
		vm.Config.InstanceUuid = id
		vm.Summary.Config.InstanceUuid = id
	} else {
		vmx.set("vc.uuid", vmxUUID(vm.Config.InstanceUuid))
		changed = true
	}
	if vmx.get("displayName") == "" {
		vmx.set("displayName", vm.Name)
		changed = true
	}
	if fresh {
		vmx.set("uuid.location", vm.location())
		exportHardware(&vm.VirtualMachine, vmx)
		changed = true
	}
	if changed {
		if err := vmx.write(vm.absVmx); err != nil {
			log.Printf("%s: writing vmx: %v", vm.Config.Files.VmPathName, err)
		}
	}
	if fresh {
		return nil
	}
	return vmx
}

func (vm *sharedVM) setUUID(id string) {
	vm.Config.Uuid = id
	vm.Summary.Config.Uuid = id
}

func (vm *sharedVM) location() string {
	where := volumePath(vm.Config.Files.VmPathName)
	if questionPolicy == "host" {
		if h, ok := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem); ok {
			where = h.Summary.Hardware.Uuid + "|" + where
		}
	}
	return locationOf(where)
}

func failedTask(vm *sharedVM, name string, fault types.BaseMethodFault) types.ManagedObjectReference {
	t := simulator.CreateTask(vm, name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) { return nil, fault })
	runTask(t, faultMessages)
	return t.Self
}

func (vm *sharedVM) PowerOnVMTask(ctx *simulator.Context, req *types.PowerOnVM_Task) soap.HasFault {
	if vm.Config.Template || vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
		return vm.VirtualMachine.PowerOnVMTask(ctx, req)
	}
	vm.qmu.Lock()
	busy := vm.starting
	vm.starting = true
	vm.qmu.Unlock()
	if busy {
		return &methods.PowerOnVM_TaskBody{Res: &types.PowerOnVM_TaskResponse{Returnval: failedTask(vm, "powerOn", &types.InvalidState{})}}
	}
	c := *ctx
	task := simulator.CreateTask(vm, "powerOn", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		defer func() {
			vm.qmu.Lock()
			vm.starting = false
			vm.qmu.Unlock()
		}()
		return nil, vm.powerOn(&c, req)
	})
	go runTask(task, faultMessages)
	return &methods.PowerOnVM_TaskBody{Res: &types.PowerOnVM_TaskResponse{Returnval: task.Self}}
}

func (vm *sharedVM) powerOn(ctx *simulator.Context, req *types.PowerOnVM_Task) types.BaseMethodFault {
	dsPath := vm.Config.Files.VmPathName
	if f := locks.acquire(vm.absVmx, dsPath, vm.lostLock); f != nil {
		return f
	}
	ok := false
	defer func() {
		if !ok {
			locks.release(vm.absVmx)
		}
	}()
	vmx, err := readVmx(vm.absVmx)
	if err != nil {
		return &types.FileNotFound{FileFault: types.FileFault{File: dsPath}}
	}
	here := vm.location()
	if was := vmx.get("uuid.location"); questionPolicy != "never" && was != "" && was != here {
		choice, fault := vm.ask()
		if fault != nil {
			return fault
		}
		switch choice {
		case 0:
			return &types.RequestCanceled{}
		case 2:
			id := uuid.New().String()
			simulator.Map.WithLock(vm, func() { vm.newIdentity(id) })
			vmx.set("uuid.bios", vmxUUID(id))
			exportHardware(&vm.VirtualMachine, vmx)
		}
	}
	vmx.set("uuid.location", here)
	if err := vmx.write(vm.absVmx); err != nil {
		log.Printf("%s: writing vmx: %v", dsPath, err)
	}
	var res soap.HasFault
	simulator.Map.WithLock(vm, func() { res = vm.VirtualMachine.PowerOnVMTask(ctx, req) })
	if f := res.Fault(); f != nil {
		return f.VimFault().(types.BaseMethodFault)
	}
	inner, _ := simulator.Map.Get(res.(*methods.PowerOnVM_TaskBody).Res.Returnval).(*simulator.Task)
	if inner != nil && inner.Info.Error != nil {
		return inner.Info.Error.Fault
	}
	ok = true
	return nil
}

func questionInfo(id string) *types.VirtualMachineQuestionInfo {
	text := "msg.uuid.altered:This virtual machine might have been moved or copied.\n" +
		"In order to configure certain management and networking features, VMware ESX needs to know if this virtual machine was moved or copied.\n\n" +
		"If you don't know, answer \"I Copied It\".\n"
	return &types.VirtualMachineQuestionInfo{
		Id:   id,
		Text: text,
		Choice: types.ChoiceOption{
			OptionType: types.OptionType{ValueIsReadonly: types.NewBool(false)},
			ChoiceInfo: []types.BaseElementDescription{
				&types.ElementDescription{Description: types.Description{Label: "button.uuid.cancel", Summary: "Cancel"}, Key: "0"},
				&types.ElementDescription{Description: types.Description{Label: "button.uuid.movedTheVM", Summary: "I Moved It"}, Key: "1"},
				&types.ElementDescription{Description: types.Description{Label: "button.uuid.copiedTheVM", Summary: "I Copied It"}, Key: "2"},
			},
			DefaultIndex: 2,
		},
		Message: []types.VirtualMachineMessage{{Id: "msg.uuid.altered", Text: text}},
	}
}

// ask raises the question and blocks until AnswerVM (or shutdown).
func (vm *sharedVM) ask() (int32, types.BaseMethodFault) {
	questionSeq.Lock()
	questionSeq.n++
	q := &pendingQuestion{id: fmt.Sprintf("_vmx%d", questionSeq.n), answer: make(chan int32, 1)}
	questionSeq.Unlock()
	vm.qmu.Lock()
	vm.question = q
	vm.qmu.Unlock()
	info := questionInfo(q.id)
	simulator.Map.WithLock(vm, func() {
		simulator.Map.Update(vm, []types.PropertyChange{
			{Name: "runtime.question", Val: info},
			{Name: "summary.runtime.question", Val: info},
		})
	})
	log.Printf("%s: question %s msg.uuid.altered pending", vm.Name, q.id)
	select {
	case choice := <-q.answer:
		return choice, nil
	case <-locks.stop:
		return 0, &types.RequestCanceled{}
	}
}

// clearQuestion removes the pending question; the VM's registry lock must be held.
func (vm *sharedVM) clearQuestion() *pendingQuestion {
	vm.qmu.Lock()
	q := vm.question
	vm.question = nil
	vm.qmu.Unlock()
	if q != nil {
		simulator.Map.Update(vm, []types.PropertyChange{
			{Name: "runtime.question", Val: nil},
			{Name: "summary.runtime.question", Val: nil},
		})
	}
	return q
}

func (vm *sharedVM) AnswerVM(ctx *simulator.Context, req *types.AnswerVM) soap.HasFault {
	body := &methods.AnswerVMBody{}
	vm.qmu.Lock()
	q := vm.question
	vm.qmu.Unlock()
	if q == nil || q.id != req.QuestionId {
		body.Fault_ = simulator.Fault(fmt.Sprintf("no pending question %q", req.QuestionId), &types.InvalidArgument{InvalidProperty: "questionId"})
		return body
	}
	choice, err := strconv.Atoi(req.AnswerChoice)
	if err != nil || choice < 0 || choice > 2 {
		body.Fault_ = simulator.Fault(fmt.Sprintf("invalid answer %q", req.AnswerChoice), &types.InvalidArgument{InvalidProperty: "answerChoice"})
		return body
	}
	vm.clearQuestion()
	q.answer <- int32(choice)
	log.Printf("%s: question %s answered %d", vm.Name, q.id, choice)
	body.Res = &types.AnswerVMResponse{}
	return body
}

// newIdentity is "I copied it": a new SMBIOS uuid and new generated MACs (registry lock held).
func (vm *sharedVM) newIdentity(id string) {
	vm.setUUID(id)
	u, _ := uuid.Parse(id)
	for _, d := range vm.Config.Hardware.Device {
		nic, ok := d.(types.BaseVirtualEthernetCard)
		if !ok {
			continue
		}
		card := nic.GetVirtualEthernetCard()
		if card.AddressType == string(types.VirtualEthernetCardMacTypeGenerated) || card.AddressType == "" {
			unit := int32(0)
			if card.UnitNumber != nil {
				unit = *card.UnitNumber
			}
			card.MacAddress = net.HardwareAddr{0x00, 0x0c, 0x29, u[13] + byte(unit), u[14], u[15]}.String()
		}
	}
	simulator.Map.Update(vm, []types.PropertyChange{
		{Name: "config.uuid", Val: id},
		{Name: "summary.config.uuid", Val: id},
	})
}

func (vm *sharedVM) PowerOffVMTask(ctx *simulator.Context, req *types.PowerOffVM_Task) soap.HasFault {
	if q := vm.clearQuestion(); q != nil {
		q.answer <- 0
	}
	res := vm.VirtualMachine.PowerOffVMTask(ctx, req)
	vm.releaseIfOff(res)
	return res
}

func (vm *sharedVM) SuspendVMTask(ctx *simulator.Context, req *types.SuspendVM_Task) soap.HasFault {
	res := vm.VirtualMachine.SuspendVMTask(ctx, req)
	vm.releaseIfOff(res)
	return res
}

func (vm *sharedVM) releaseIfOff(res soap.HasFault) {
	if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		locks.release(vm.absVmx)
	}
}

func (vm *sharedVM) UnregisterVM(ctx *simulator.Context, req *types.UnregisterVM) soap.HasFault {
	if q := vm.clearQuestion(); q != nil {
		q.answer <- 0
	}
	return vm.VirtualMachine.UnregisterVM(ctx, req)
}

// lostLock runs when another host broke this VM's lock while this process was
// stopped: the VM cannot keep running, so it is powered off.
func (vm *sharedVM) lostLock() {
	ctx := internalContext()
	ctx.Caller = &vm.Self
	simulator.Map.WithLock(vm, func() {
		if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
			vm.VirtualMachine.PowerOffVMTask(ctx, &types.PowerOffVM_Task{This: vm.Self})
		}
	})
	if h, ok := simulator.Map.Get(*vm.Runtime.Host).(*simulator.HostSystem); ok {
		ev := hostEventEx(h, "vcsim.vm.lock.lost", fmt.Sprintf("The lock protecting %s has been lost; the virtual machine was powered off.", vm.Config.Files.VmPathName), "error")
		ev.Vm = &types.VmEventArgument{EntityEventArgument: types.EntityEventArgument{Name: vm.Name}, Vm: vm.Self}
		postEvents(ev)
	}
	log.Printf("%s: lock lost at %s, powered off", vm.Name, time.Now().Format(time.RFC3339))
}
