package main

// Per-host (and vCenter) facts that real ESXi/vCenter vary and 0.24.2 fixes:
// product version/build, host name/uuid, config.featureCapability, EVC keys,
// a USB boot device, services (slpd), firewall rulesets, configIssue; and per-VM
// runtime.featureRequirement.
//
// Flags:
//
//	-hosts JSON        per-host specs keyed by host name; key "*" applies to every host first.
//	                   In esx mode the only host is also reachable as "" or "*". See hostSpec below.
//	-vms JSON          per-VM specs keyed by VM name: {"DC0_C0_RP0_VM0":{"featureRequirement":{"cpuid.mdclear":"Bool:Min:1"}}}
//	-clusters JSON     per-cluster specs keyed by cluster name: {"DC0_C0":{"currentEVCModeKey":"intel-broadwell"}}
//	-portgroups JSON   per-DVPG specs keyed by portgroup name: {"DC0_DVPG0":{"type":"ephemeral"}}; every DVPG's
//	                   config.type defaults to "earlyBinding" (static), as in vCenter (stock leaves it empty)
//	-vc-version V      vCenter about.version (vpx mode; default 6.5.0)
//	-vc-build B        vCenter about.build (vpx mode; default 5973321)
//	-host-name NAME    esx mode: the host's name (HostSystem.name, summary.config.name, DNS host name)
//	-host-uuid UUID    esx mode: hardware.systemInfo.uuid / summary.hardware.uuid (default: derived from
//	                   -host-name, or random; the stock ESX model gives every process the same uuid)
//	-host-version V    shorthand for -hosts '{"*":{"version":V}}' (in esx mode this is also about.version)
//	-host-build B      shorthand for -hosts '{"*":{"build":B}}'
//
// hostSpec JSON (every field optional):
//
//	{"name":"esx01.lab", "uuid":"…", "version":"7.0.2", "build":"17630552",
//	 "featureCapability":{"cpuid.MDCLEAR":"1"}, "maskedFeatureCapability":{"cpuid.MDCLEAR":"0"},
//	 "maxEVCModeKey":"intel-cascadelake", "currentEVCModeKey":"intel-broadwell",
//	 "usbBoot":true, "hbas":[{"device":"vmhba2","driver":"lsi_mr3","model":"MegaRAID SAS Invader Controller"}],
//	 "services":{"slpd":{"running":false,"policy":"off"}}, "firewall":{"CIMSLP":false},
//	 "configIssues":[{"eventTypeId":"esx.problem.vmfs.resource.corruptondisk","message":"…"}],
//	 "connectionState":"connected|disconnected|notResponding", "inMaintenanceMode":false}
//
// The same specs can be applied at runtime through the control socket (control.go).

import (
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type serviceSpec struct {
	Running *bool   `json:"running,omitempty"`
	Policy  *string `json:"policy,omitempty"`
}

type issueSpec struct {
	EventTypeId string `json:"eventTypeId"`
	Message     string `json:"message,omitempty"`
	Severity    string `json:"severity,omitempty"`
}

type hostSpec struct {
	Name                    *string                `json:"name,omitempty"`
	UUID                    *string                `json:"uuid,omitempty"`
	Version                 *string                `json:"version,omitempty"`
	Build                   *string                `json:"build,omitempty"`
	FeatureCapability       map[string]string      `json:"featureCapability,omitempty"`
	MaskedFeatureCapability map[string]string      `json:"maskedFeatureCapability,omitempty"`
	MaxEVCModeKey           *string                `json:"maxEVCModeKey,omitempty"`
	CurrentEVCModeKey       *string                `json:"currentEVCModeKey,omitempty"`
	USBBoot                 *bool                  `json:"usbBoot,omitempty"`
	HBAs                    *[]hbaSpec             `json:"hbas,omitempty"`
	Services                map[string]serviceSpec `json:"services,omitempty"`
	Firewall                map[string]bool        `json:"firewall,omitempty"`
	ConfigIssues            *[]issueSpec           `json:"configIssues,omitempty"`
	ConnectionState         *string                `json:"connectionState,omitempty"`
	InMaintenanceMode       *bool                  `json:"inMaintenanceMode,omitempty"`
}

// hbaSpec is an extra block HBA in config.storageDevice.hostBusAdapter (e.g. a MegaRAID controller).
type hbaSpec struct {
	Device string `json:"device"`
	Driver string `json:"driver"`
	Model  string `json:"model,omitempty"`
	Pci    string `json:"pci,omitempty"`
}

type portgroupSpec struct {
	Type *string `json:"type,omitempty"`
}

type vmSpec struct {
	FeatureRequirement map[string]string `json:"featureRequirement,omitempty"`
}

type clusterSpec struct {
	CurrentEVCModeKey *string `json:"currentEVCModeKey,omitempty"`
}

type hostSpecExtension struct {
	hosts       map[string]hostSpec
	vms         map[string]vmSpec
	clusters    map[string]clusterSpec
	portgroups  map[string]portgroupSpec
	vcVersion   string
	vcBuild     string
	hostName    string
	hostUUID    string
	hostVersion string
	hostBuild   string
}

func init() { register(10, &hostSpecExtension{}) }

func (e *hostSpecExtension) flags(fs *flag.FlagSet) {
	fs.Var(&jsonFlag{v: &e.hosts}, "hosts", "per-host specs (JSON, keyed by host name; \"*\" = all)")
	fs.Var(&jsonFlag{v: &e.vms}, "vms", "per-VM specs (JSON, keyed by VM name)")
	fs.Var(&jsonFlag{v: &e.clusters}, "clusters", "per-cluster specs (JSON, keyed by cluster name)")
	fs.Var(&jsonFlag{v: &e.portgroups}, "portgroups", "per-portgroup specs (JSON, keyed by DVPG name)")
	fs.StringVar(&e.vcVersion, "vc-version", "", "vCenter about.version")
	fs.StringVar(&e.vcBuild, "vc-build", "", "vCenter about.build")
	fs.StringVar(&e.hostName, "host-name", "", "esx mode: the host's name")
	fs.StringVar(&e.hostUUID, "host-uuid", "", "esx mode: the host's hardware uuid")
	fs.StringVar(&e.hostVersion, "host-version", "", "every host's product version")
	fs.StringVar(&e.hostBuild, "host-build", "", "every host's product build")
}

func (e *hostSpecExtension) beforeCreate(m *simulator.Model) error {
	if e.hostName != "" {
		certHostName = e.hostName
	}
	return nil
}

func (e *hostSpecExtension) afterCreate(m *simulator.Model) error {
	esx := simulator.Map.IsESX()
	if !esx && (e.hostName != "" || e.hostUUID != "") {
		return fmt.Errorf("-host-name/-host-uuid are for -mode esx; use -hosts in vpx mode")
	}
	if esx && (e.vcVersion != "" || e.vcBuild != "") {
		return fmt.Errorf("-vc-version/-vc-build are for -mode vpx; use -host-version/-host-build in esx mode")
	}
	for _, h := range allHosts() {
		setupHostServices(h)
	}
	all := hostSpec{}
	if e.hostVersion != "" {
		all.Version = &e.hostVersion
	}
	if e.hostBuild != "" {
		all.Build = &e.hostBuild
	}
	if esx {
		name, id := e.hostName, e.hostUUID
		if id == "" && name != "" {
			id = nameUUID("host:" + name)
		}
		if id == "" {
			id = uuid.New().String()
		}
		all.UUID = &id
		if name != "" {
			all.Name = &name
		}
	}
	for _, h := range allHosts() {
		applyHostSpec(h, all)
	}
	if spec, ok := e.hosts["*"]; ok {
		for _, h := range allHosts() {
			applyHostSpec(h, spec)
		}
	}
	for _, name := range sortedKeys(e.hosts) {
		if name == "*" {
			continue
		}
		h := findHost(name)
		if h == nil && esx && name == "" {
			h = findHost("")
		}
		if h == nil {
			return fmt.Errorf("-hosts: no host named %q (hosts: %s)", name, strings.Join(hostNames(), ", "))
		}
		applyHostSpec(h, e.hosts[name])
	}
	if !esx && (e.vcVersion != "" || e.vcBuild != "") {
		setAbout(e.vcVersion, e.vcBuild)
	}
	for _, name := range sortedKeys(e.vms) {
		vm := findVM(name)
		if vm == nil {
			return fmt.Errorf("-vms: no VM named %q", name)
		}
		applyVMSpec(vm, e.vms[name])
	}
	for name, spec := range e.clusters {
		if err := applyClusterSpec(name, spec); err != nil {
			return fmt.Errorf("-clusters: %w", err)
		}
	}
	for _, e := range simulator.Map.All("DistributedVirtualPortgroup") {
		if pg, ok := e.(*simulator.DistributedVirtualPortgroup); ok && pg.Config.Type == "" {
			pg.Config.Type = string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding)
		}
	}
	for name, spec := range e.portgroups {
		if err := applyPortgroupSpec(name, spec); err != nil {
			return fmt.Errorf("-portgroups: %w", err)
		}
	}
	return nil
}

func applyPortgroupSpec(name string, spec portgroupSpec) error {
	for _, e := range simulator.Map.All("DistributedVirtualPortgroup") {
		pg, ok := e.(*simulator.DistributedVirtualPortgroup)
		if !ok || pg.Name != name {
			continue
		}
		simulator.Map.WithLock(pg, func() {
			if spec.Type != nil {
				pg.Config.Type = *spec.Type
				simulator.Map.Update(pg, []types.PropertyChange{{Name: "config.type", Val: *spec.Type}})
			}
		})
		return nil
	}
	return fmt.Errorf("no distributed portgroup named %q", name)
}

func (e *hostSpecExtension) afterServe(*simulator.Model, *simulator.Server) error { return nil }
func (e *hostSpecExtension) shutdown()                                            {}

func hostNames() []string {
	var names []string
	for _, h := range allHosts() {
		names = append(names, h.Name)
	}
	sort.Strings(names)
	return names
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// setAbout changes the endpoint's ServiceContent.about (vCenter in vpx mode, the host in esx mode).
func setAbout(version, build string) {
	si := simulator.Map.Get(types.ManagedObjectReference{Type: "ServiceInstance", Value: "ServiceInstance"}).(*simulator.ServiceInstance)
	about := &si.Content.About
	if version != "" {
		about.Version = version
		about.ApiVersion = apiVersionOf(version)
	}
	if build != "" {
		about.Build = build
	}
	about.FullName = fmt.Sprintf("%s %s build-%s", about.Name, about.Version, about.Build)
}

// apiVersionOf maps a product version to the vim API version it speaks (7.0.3 → 7.0.3.0, 6.5.0 → 6.5).
func apiVersionOf(version string) string {
	parts := strings.Split(version, ".")
	if len(parts) >= 3 && parts[2] != "0" {
		return version + ".0"
	}
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return version
}

// applyHostSpec changes one host in place, under the host's registry lock.
func applyHostSpec(h *simulator.HostSystem, spec hostSpec) {
	simulator.Map.WithLock(h, func() { applyHostSpecLocked(h, spec) })
}

func applyHostSpecLocked(h *simulator.HostSystem, spec hostSpec) {
	esx := simulator.Map.IsESX()
	if spec.Name != nil {
		h.Name = *spec.Name
		h.Summary.Config.Name = *spec.Name
		if dns, ok := h.Config.Network.DnsConfig.(*types.HostDnsConfig); ok {
			short := strings.SplitN(*spec.Name, ".", 2)
			dns.HostName = short[0]
			if len(short) == 2 {
				dns.DomainName = short[1]
			}
		}
	}
	if spec.UUID != nil {
		h.Summary.Hardware.Uuid = *spec.UUID
		h.Hardware.SystemInfo.Uuid = *spec.UUID
	}
	if spec.Version != nil || spec.Build != nil {
		product := h.Config.Product
		if spec.Version != nil {
			product.Version = *spec.Version
			product.ApiVersion = apiVersionOf(*spec.Version)
		}
		if spec.Build != nil {
			product.Build = *spec.Build
		}
		product.FullName = fmt.Sprintf("%s %s build-%s", product.Name, product.Version, product.Build)
		h.Config.Product = product
		// summary.config.product is shared by every host in the stock model: give this host its own.
		p := product
		h.Summary.Config.Product = &p
		if esx {
			setAbout(product.Version, product.Build)
		}
	}
	if spec.FeatureCapability != nil {
		h.Config.FeatureCapability = featureList(spec.FeatureCapability)
	}
	if spec.MaskedFeatureCapability != nil {
		h.Config.MaskedFeatureCapability = featureList(spec.MaskedFeatureCapability)
	}
	if spec.MaxEVCModeKey != nil {
		h.Summary.MaxEVCModeKey = *spec.MaxEVCModeKey
	}
	if spec.CurrentEVCModeKey != nil {
		h.Summary.CurrentEVCModeKey = *spec.CurrentEVCModeKey
	}
	if spec.USBBoot != nil {
		setUSBBoot(h, *spec.USBBoot)
	}
	if spec.HBAs != nil {
		setExtraHBAs(h, *spec.HBAs)
	}
	if spec.Services != nil {
		setServices(h, spec.Services)
	}
	if spec.Firewall != nil {
		setFirewall(h, spec.Firewall)
	}
	if spec.ConfigIssues != nil {
		var issues []types.BaseEvent
		for _, is := range *spec.ConfigIssues {
			issues = append(issues, hostEventEx(h, is.EventTypeId, is.Message, is.Severity))
		}
		h.ConfigIssue = issues
	}
	if spec.ConnectionState != nil {
		h.Runtime.ConnectionState = types.HostSystemConnectionState(*spec.ConnectionState)
	}
	if spec.InMaintenanceMode != nil {
		h.Runtime.InMaintenanceMode = *spec.InMaintenanceMode
	}
	// Wake property collectors (WaitForUpdatesEx) watching this host.
	simulator.Map.Update(h, []types.PropertyChange{{Name: "name", Val: h.Name}})
}

func featureList(m map[string]string) []types.HostFeatureCapability {
	var out []types.HostFeatureCapability
	for _, k := range sortedKeys(m) {
		out = append(out, types.HostFeatureCapability{Key: k, FeatureName: k, Value: m[k]})
	}
	return out
}

func applyVMSpec(vm *simulator.VirtualMachine, spec vmSpec) {
	simulator.Map.WithLock(vm, func() {
		if spec.FeatureRequirement != nil {
			var reqs []types.VirtualMachineFeatureRequirement
			for _, k := range sortedKeys(spec.FeatureRequirement) {
				reqs = append(reqs, types.VirtualMachineFeatureRequirement{Key: k, FeatureName: k, Value: spec.FeatureRequirement[k]})
			}
			vm.Runtime.FeatureRequirement = reqs
			vm.Summary.Runtime.FeatureRequirement = reqs
			simulator.Map.Update(vm, []types.PropertyChange{{Name: "runtime.featureRequirement", Val: reqs}})
		}
	})
}

func applyClusterSpec(name string, spec clusterSpec) error {
	for _, e := range simulator.Map.All("ClusterComputeResource") {
		c := e.(*simulator.ClusterComputeResource)
		if c.Name != name {
			continue
		}
		simulator.Map.WithLock(c, func() {
			if spec.CurrentEVCModeKey != nil {
				if s, ok := c.Summary.(*types.ClusterComputeResourceSummary); ok {
					s.CurrentEVCModeKey = *spec.CurrentEVCModeKey
				}
			}
		})
		return nil
	}
	return fmt.Errorf("no cluster named %q", name)
}

// hostEventEx builds an EventEx about a host, as ESXi's vobd/hostd report them.
func hostEventEx(h *simulator.HostSystem, typeID, message, severity string) *types.EventEx {
	if severity == "" {
		severity = string(types.EventEventSeverityWarning)
	}
	if message == "" {
		message = typeID
	}
	ev := &types.EventEx{
		EventTypeId: typeID,
		Severity:    severity,
		ObjectId:    h.Self.Value,
		ObjectType:  "HostSystem",
		ObjectName:  h.Name,
		Message:     message,
	}
	ev.Host = &types.HostEventArgument{EntityEventArgument: types.EntityEventArgument{Name: h.Name}, Host: h.Self}
	ev.FullFormattedMessage = message
	if dc := datacenterOf(h.Self); dc != nil {
		ev.Datacenter = &types.DatacenterEventArgument{EntityEventArgument: types.EntityEventArgument{Name: dc.Name}, Datacenter: dc.Self}
	}
	return ev
}

func datacenterOf(ref types.ManagedObjectReference) *mo.Datacenter {
	for {
		obj := simulator.Map.Get(ref)
		if obj == nil {
			return nil
		}
		if dc, ok := obj.(*simulator.Datacenter); ok {
			return &dc.Datacenter
		}
		me, ok := obj.(mo.Entity)
		if !ok || me.Entity().Parent == nil {
			return nil
		}
		ref = *me.Entity().Parent
	}
}
