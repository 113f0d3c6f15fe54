package main

// The VM's hardware in its vmx, so a VM registered on another host has the same
// CPUs, memory, guest OS and NICs (stock RegisterVM_Task parses no vmx and gives
// the VM default devices without a NIC). Written when the VM is created here and
// after every ReconfigVM_Task; read when the vmx is registered here.
//
//	numvcpus = "1"   memSize = "64"   guestOS = "otherGuest64"
//	ethernet0.present = "TRUE"   ethernet0.virtualDev = "e1000"   ethernet0.networkName = "VM Network"
//	ethernet0.addressType = "generated"   ethernet0.generatedAddress = "00:0c:29:…"   (static: ethernet0.address)

import (
	"fmt"
	"log"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func (v *vmxFile) deletePrefix(prefix string) {
	prefix = strings.ToLower(prefix)
	keys := v.keys[:0]
	for _, k := range v.keys {
		if strings.HasPrefix(strings.ToLower(k), prefix) {
			delete(v.values, strings.ToLower(k))
			continue
		}
		keys = append(keys, k)
	}
	v.keys = keys
}

func nicKind(d types.BaseVirtualDevice) string {
	switch d.(type) {
	case *types.VirtualE1000:
		return "e1000"
	case *types.VirtualE1000e:
		return "e1000e"
	case *types.VirtualVmxnet3:
		return "vmxnet3"
	case *types.VirtualVmxnet2:
		return "vmxnet2"
	case *types.VirtualPCNet32:
		return "vlance"
	}
	return ""
}

func exportHardware(vm *simulator.VirtualMachine, vmx *vmxFile) {
	if vm.Config == nil {
		return
	}
	vmx.set("numvcpus", strconv.Itoa(int(vm.Config.Hardware.NumCPU)))
	vmx.set("memSize", strconv.Itoa(int(vm.Config.Hardware.MemoryMB)))
	if vm.Config.GuestId != "" {
		vmx.set("guestOS", vm.Config.GuestId)
	}
	vmx.deletePrefix("ethernet")
	n := 0
	for _, d := range vm.Config.Hardware.Device {
		nic, ok := d.(types.BaseVirtualEthernetCard)
		if !ok {
			continue
		}
		card := nic.GetVirtualEthernetCard()
		p := fmt.Sprintf("ethernet%d.", n)
		n++
		vmx.set(p+"present", "TRUE")
		if kind := nicKind(d); kind != "" {
			vmx.set(p+"virtualDev", kind)
		}
		if b, ok := card.Backing.(*types.VirtualEthernetCardNetworkBackingInfo); ok {
			vmx.set(p+"networkName", b.DeviceName)
		}
		if card.AddressType == string(types.VirtualEthernetCardMacTypeManual) {
			vmx.set(p+"addressType", "static")
			vmx.set(p+"address", card.MacAddress)
		} else {
			vmx.set(p+"addressType", "generated")
			vmx.set(p+"generatedAddress", card.MacAddress)
		}
	}
}

// importSpec turns the vmx's hardware keys into a reconfigure spec (nil: nothing to do).
func importSpec(vm *simulator.VirtualMachine, vmx *vmxFile) *types.VirtualMachineConfigSpec {
	spec := &types.VirtualMachineConfigSpec{}
	changed := false
	if n, err := strconv.Atoi(vmx.get("numvcpus")); err == nil && n > 0 {
		spec.NumCPUs = int32(n)
		changed = true
	}
	if n, err := strconv.Atoi(vmx.get("memSize")); err == nil && n > 0 {
		spec.MemoryMB = int64(n)
		changed = true
	}
	if g := vmx.get("guestOS"); g != "" {
		spec.GuestId = g
		changed = true
	}
	for _, d := range vm.Config.Hardware.Device {
		if _, ok := d.(types.BaseVirtualEthernetCard); ok {
			return nilIfUnchanged(spec, changed) // the VM has NICs already
		}
	}
	for i := 0; i < 10; i++ {
		p := fmt.Sprintf("ethernet%d.", i)
		if !strings.EqualFold(vmx.get(p+"present"), "TRUE") {
			continue
		}
		card := types.VirtualEthernetCard{
			VirtualDevice: types.VirtualDevice{
				Key: int32(-100 - i),
				Backing: &types.VirtualEthernetCardNetworkBackingInfo{
					VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: vmx.get(p + "networkName")},
				},
				Connectable: &types.VirtualDeviceConnectInfo{StartConnected: true, Connected: true},
			},
			AddressType: string(types.VirtualEthernetCardMacTypeGenerated),
			MacAddress:  vmx.get(p + "generatedAddress"),
		}
		if strings.EqualFold(vmx.get(p+"addressType"), "static") {
			card.AddressType = string(types.VirtualEthernetCardMacTypeManual)
			card.MacAddress = vmx.get(p + "address")
		}
		var dev types.BaseVirtualDevice
		switch vmx.get(p + "virtualDev") {
		case "vmxnet3":
			dev = &types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{VirtualEthernetCard: card}}
		case "e1000e":
			dev = &types.VirtualE1000e{VirtualEthernetCard: card}
		default:
			dev = &types.VirtualE1000{VirtualEthernetCard: card}
		}
		spec.DeviceChange = append(spec.DeviceChange, &types.VirtualDeviceConfigSpec{
			Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: dev,
		})
		changed = true
	}
	return nilIfUnchanged(spec, changed)
}

func nilIfUnchanged(spec *types.VirtualMachineConfigSpec, changed bool) *types.VirtualMachineConfigSpec {
	if !changed {
		return nil
	}
	return spec
}

// importHardware applies the vmx's hardware to a freshly registered VM.
func (vm *sharedVM) importHardware(vmx *vmxFile) {
	spec := importSpec(&vm.VirtualMachine, vmx)
	if spec == nil {
		return
	}
	ctx := internalContext()
	ctx.Caller = &vm.Self
	res := vm.VirtualMachine.ReconfigVMTask(ctx, &types.ReconfigVM_Task{This: vm.Self, Spec: *spec})
	if t, ok := simulator.Map.Get(res.(*methods.ReconfigVM_TaskBody).Res.Returnval).(*simulator.Task); ok && t.Info.Error != nil {
		log.Printf("%s: applying vmx hardware: %T", vm.Config.Files.VmPathName, t.Info.Error.Fault)
	}
}

// saveHardware rewrites the vmx's hardware keys from the VM (after a reconfigure or new MACs).
func (vm *sharedVM) saveHardware() {
	vmx, err := readVmx(vm.absVmx)
	if err != nil {
		log.Printf("%s: reading vmx: %v", vm.Config.Files.VmPathName, err)
		return
	}
	exportHardware(&vm.VirtualMachine, vmx)
	if err := vmx.write(vm.absVmx); err != nil {
		log.Printf("%s: writing vmx: %v", vm.Config.Files.VmPathName, err)
	}
}

func (vm *sharedVM) ReconfigVMTask(ctx *simulator.Context, req *types.ReconfigVM_Task) soap.HasFault {
	res := vm.VirtualMachine.ReconfigVMTask(ctx, req)
	vm.saveHardware()
	return res
}
