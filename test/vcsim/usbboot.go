package main

// A USB boot device, as on hosts that boot ESXi from a USB stick or SD card:
// a vmkusb BlockHba vmhba32 with one ScsiDisk mpx.vmhba32:C0:T0:L0, its
// topology and multipath entries, and an OSDATA volume (the 7.x layout, type
// VMFSOS) whose extent is that disk, in config.fileSystemVolume.mountInfo.
// Set with the host spec's "usbBoot": true (hostspec.go).

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	usbHba      = "vmhba32"
	usbDisk     = "mpx.vmhba32:C0:T0:L0"
	usbLunUUID  = "0100000000000000000000000000000000000000556c74726120"
	usbHbaKey   = "key-vim.host.BlockHba-" + usbHba
	usbLunKey   = "key-vim.host.ScsiDisk-" + usbLunUUID
	usbMpathKey = "key-vim.host.MultipathInfo.LogicalUnit-" + usbLunUUID
)

func setUSBBoot(h *simulator.HostSystem, on bool) {
	old := h.Config.StorageDevice
	dev := &types.HostStorageDeviceInfo{}
	if old != nil {
		*dev = *old
	}
	// Fresh slices: the stock model shares these between hosts.
	dev.HostBusAdapter = withoutHba(dev.HostBusAdapter)
	dev.ScsiLun = withoutLun(dev.ScsiLun)
	if dev.ScsiTopology != nil {
		t := *dev.ScsiTopology
		t.Adapter = nil
		for _, a := range old.ScsiTopology.Adapter {
			if a.Adapter != usbHbaKey {
				t.Adapter = append(t.Adapter, a)
			}
		}
		dev.ScsiTopology = &t
	}
	if dev.MultipathInfo != nil {
		m := *dev.MultipathInfo
		m.Lun = nil
		for _, l := range old.MultipathInfo.Lun {
			if l.Key != usbMpathKey {
				m.Lun = append(m.Lun, l)
			}
		}
		dev.MultipathInfo = &m
	}
	var mounts []types.HostFileSystemMountInfo
	if h.Config.FileSystemVolume != nil {
		for _, mi := range h.Config.FileSystemVolume.MountInfo {
			if v, ok := mi.Volume.(*types.HostVmfsVolume); ok && len(v.Extent) > 0 && v.Extent[0].DiskName == usbDisk {
				continue
			}
			mounts = append(mounts, mi)
		}
	}

	if on {
		dev.HostBusAdapter = append(dev.HostBusAdapter, &types.HostBlockHba{
			HostHostBusAdapter: types.HostHostBusAdapter{
				Key: usbHbaKey, Device: usbHba, Bus: 0, Status: "unknown",
				Model: "USB", Driver: "vmkusb", Pci: "0000:00:14.0",
			},
		})
		dev.ScsiLun = append(dev.ScsiLun, &types.HostScsiDisk{
			ScsiLun: types.ScsiLun{
				HostDevice:    types.HostDevice{DeviceName: "/vmfs/devices/disks/" + usbDisk, DeviceType: "disk"},
				Key:           usbLunKey,
				Uuid:          usbLunUUID,
				CanonicalName: usbDisk,
				DisplayName:   "Local USB Direct-Access (" + usbDisk + ")",
				LunType:       "disk",
				Vendor:        "SanDisk ",
				Model:         "Ultra Fit       ",
				Revision:      "1.00",
				ScsiLevel:     2,
				SerialNumber:  "unavailable",
				Descriptor: []types.ScsiLunDescriptor{
					{Quality: "lowQuality", Id: usbDisk},
					{Quality: "lowQuality", Id: "vml." + usbLunUUID},
				},
				OperationalState: []string{"ok"},
			},
			Capacity:   types.HostDiskDimensionsLba{BlockSize: 512, Block: 60063744},
			DevicePath: "/vmfs/devices/disks/" + usbDisk,
			LocalDisk:  types.NewBool(true),
			Ssd:        types.NewBool(false),
		})
		if dev.ScsiTopology == nil {
			dev.ScsiTopology = &types.HostScsiTopology{}
		}
		dev.ScsiTopology.Adapter = append(dev.ScsiTopology.Adapter, types.HostScsiTopologyInterface{
			Key:     "key-vim.host.ScsiTopology.Interface-" + usbHba,
			Adapter: usbHbaKey,
			Target: []types.HostScsiTopologyTarget{{
				Key:    "key-vim.host.ScsiTopology.Target-" + usbHba + ":0:0",
				Target: 0,
				Lun: []types.HostScsiTopologyLun{{
					Key:     "key-vim.host.ScsiTopology.Lun-" + usbLunUUID,
					Lun:     0,
					ScsiLun: usbLunKey,
				}},
				Transport: &types.HostBlockAdapterTargetTransport{},
			}},
		})
		if dev.MultipathInfo == nil {
			dev.MultipathInfo = &types.HostMultipathInfo{}
		}
		dev.MultipathInfo.Lun = append(dev.MultipathInfo.Lun, types.HostMultipathInfoLogicalUnit{
			Key: usbMpathKey,
			Id:  usbLunUUID,
			Lun: usbLunKey,
			Path: []types.HostMultipathInfoPath{{
				Key:           "key-vim.host.MultipathInfo.Path-" + usbHba + ":C0:T0:L0",
				Name:          usbHba + ":C0:T0:L0",
				PathState:     "active",
				State:         "active",
				IsWorkingPath: types.NewBool(true),
				Adapter:       usbHbaKey,
				Lun:           usbMpathKey,
				Transport:     &types.HostBlockAdapterTargetTransport{},
			}},
			Policy: &types.HostMultipathInfoFixedLogicalUnitPolicy{
				HostMultipathInfoLogicalUnitPolicy: types.HostMultipathInfoLogicalUnitPolicy{Policy: "VMW_PSP_FIXED"},
				Prefer:                             usbHba + ":C0:T0:L0",
			},
			StorageArrayTypePolicy: &types.HostMultipathInfoLogicalUnitStorageArrayTypePolicy{Policy: "VMW_SATP_LOCAL"},
		})
		osdataUUID := vmfsUUID("osdata:" + h.Summary.Hardware.Uuid)
		mounts = append(mounts, types.HostFileSystemMountInfo{
			MountInfo: types.HostMountInfo{
				Path:       "/vmfs/volumes/" + osdataUUID,
				AccessMode: string(types.HostMountModeReadWrite),
				Mounted:    types.NewBool(true),
				Accessible: types.NewBool(true),
			},
			Volume: &types.HostVmfsVolume{
				HostFileSystemVolume: types.HostFileSystemVolume{
					Type:     "VMFSOS",
					Name:     "OSDATA-" + osdataUUID,
					Capacity: 25 * 1024 * 1024 * 1024,
				},
				BlockSizeMb:  1,
				MajorVersion: 6,
				Version:      "6.82",
				Uuid:         osdataUUID,
				Extent:       []types.HostScsiDiskPartition{{DiskName: usbDisk, Partition: 7}},
			},
		})
	}

	h.Config.StorageDevice = dev
	if h.Config.FileSystemVolume == nil {
		h.Config.FileSystemVolume = &types.HostFileSystemVolumeInfo{}
	}
	h.Config.FileSystemVolume.MountInfo = mounts
	// The host's HostStorageSystem points at the stock model's global device info; give it this host's.
	if h.ConfigManager.StorageSystem != nil {
		if ss, ok := simulator.Map.Get(*h.ConfigManager.StorageSystem).(*simulator.HostStorageSystem); ok {
			ss.StorageDeviceInfo = dev
			ss.FileSystemVolumeInfo = *h.Config.FileSystemVolume
		}
	}
}

func withoutHba(in []types.BaseHostHostBusAdapter) []types.BaseHostHostBusAdapter {
	var out []types.BaseHostHostBusAdapter
	for _, a := range in {
		if a.GetHostHostBusAdapter().Device != usbHba {
			out = append(out, a)
		}
	}
	return out
}

func withoutLun(in []types.BaseScsiLun) []types.BaseScsiLun {
	var out []types.BaseScsiLun
	for _, l := range in {
		if l.GetScsiLun().CanonicalName != usbDisk {
			out = append(out, l)
		}
	}
	return out
}

// vmfsUUID formats a stable VMFS-style volume uuid (8-8-4-12 hex) from a seed.
func vmfsUUID(seed string) string {
	sum := sha1.Sum([]byte(seed))
	x := hex.EncodeToString(sum[:])
	return x[0:8] + "-" + x[8:16] + "-" + x[16:20] + "-" + x[20:32]
}

// extraHbaKey marks HBAs added by the host spec's "hbas" (replaced as a set on each change).
const extraHbaKey = "key-vim.host.BlockHba-esxkit-"

func setExtraHBAs(h *simulator.HostSystem, hbas []hbaSpec) {
	old := h.Config.StorageDevice
	dev := &types.HostStorageDeviceInfo{}
	if old != nil {
		*dev = *old
	}
	var list []types.BaseHostHostBusAdapter
	for _, a := range dev.HostBusAdapter {
		if !strings.HasPrefix(a.GetHostHostBusAdapter().Key, extraHbaKey) {
			list = append(list, a)
		}
	}
	for _, spec := range hbas {
		list = append(list, &types.HostBlockHba{HostHostBusAdapter: types.HostHostBusAdapter{
			Key: extraHbaKey + spec.Device, Device: spec.Device, Status: "unknown",
			Model: spec.Model, Driver: spec.Driver, Pci: spec.Pci,
		}})
	}
	dev.HostBusAdapter = list
	h.Config.StorageDevice = dev
	if h.ConfigManager.StorageSystem != nil {
		if ss, ok := simulator.Map.Get(*h.ConfigManager.StorageSystem).(*simulator.HostStorageSystem); ok {
			ss.StorageDeviceInfo = dev
		}
	}
}
