package main

// Host services and firewall rulesets, per host.
//
// Stock 0.24.2 lists services only in config.service (no slpd), has no
// HostServiceSystem object (configManager.serviceSystem dangles), and shares
// one firewall ruleset slice between all hosts. Here every host gets:
//   - an "slpd" service (running, policy "on", ruleset CIMSLP — the 6.x default);
//   - a HostServiceSystem (serviceInfo mirrors config.service) implementing
//     StartService, StopService, RestartService, UpdateServicePolicy, RefreshServices;
//   - its own copy of the firewall info (HostFirewallSystem and config.firewall).
// Host spec keys "services" and "firewall" (hostspec.go) change them.

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

type hostServiceSystem struct {
	mo.HostServiceSystem

	host *simulator.HostSystem
}

// setupHostServices runs once per host after the model is built.
func setupHostServices(h *simulator.HostSystem) {
	simulator.Map.WithLock(h, func() {
		info := &types.HostServiceInfo{}
		if h.Config.Service != nil {
			info.Service = append(info.Service, h.Config.Service.Service...)
		}
		if findService(info, "slpd") == nil {
			info.Service = append(info.Service, types.HostService{
				Key: "slpd", Label: "slpd", Required: false, Uninstallable: false,
				Running: true, Policy: "on", Ruleset: []string{"CIMSLP"},
				SourcePackage: &types.HostServiceSourcePackage{SourcePackageName: "esx-base", Description: "This VIB contains all of the base functionality of vSphere ESXi."},
			})
		}
		h.Config.Service = info

		ref := types.ManagedObjectReference{Type: "HostServiceSystem", Value: "serviceSystem"}
		if !simulator.Map.IsESX() {
			ref.Value = "serviceSystem-" + h.Self.Value
		}
		ss := &hostServiceSystem{host: h}
		ss.Self = ref
		ss.ServiceInfo = copyServiceInfo(info)
		simulator.Map.Put(ss)
		h.ConfigManager.ServiceSystem = &ref

		// Give the host its own firewall rulesets (the stock model shares the slice between hosts).
		if h.ConfigManager.FirewallSystem != nil {
			if fw, ok := simulator.Map.Get(*h.ConfigManager.FirewallSystem).(*simulator.HostFirewallSystem); ok && fw.FirewallInfo != nil {
				c := *fw.FirewallInfo
				c.Ruleset = append([]types.HostFirewallRuleset(nil), fw.FirewallInfo.Ruleset...)
				fw.FirewallInfo = &c
			}
		}
	})
}

func findService(info *types.HostServiceInfo, key string) *types.HostService {
	for i := range info.Service {
		if info.Service[i].Key == key {
			return &info.Service[i]
		}
	}
	return nil
}

func copyServiceInfo(info *types.HostServiceInfo) types.HostServiceInfo {
	return types.HostServiceInfo{Service: append([]types.HostService(nil), info.Service...)}
}

func serviceSystemOf(h *simulator.HostSystem) *hostServiceSystem {
	if h.ConfigManager.ServiceSystem == nil {
		return nil
	}
	ss, _ := simulator.Map.Get(*h.ConfigManager.ServiceSystem).(*hostServiceSystem)
	return ss
}

// setServices applies the host spec's "services" (host lock held).
func setServices(h *simulator.HostSystem, specs map[string]serviceSpec) {
	info := h.Config.Service
	if info == nil {
		info = &types.HostServiceInfo{}
		h.Config.Service = info
	}
	for key, spec := range specs {
		svc := findService(info, key)
		if svc == nil {
			info.Service = append(info.Service, types.HostService{Key: key, Label: key, Policy: "off"})
			svc = &info.Service[len(info.Service)-1]
		}
		if spec.Running != nil {
			svc.Running = *spec.Running
		}
		if spec.Policy != nil {
			svc.Policy = *spec.Policy
		}
	}
	if ss := serviceSystemOf(h); ss != nil {
		ss.ServiceInfo = copyServiceInfo(info)
	}
}

// setFirewall applies the host spec's "firewall" ruleset switches (host lock held).
func setFirewall(h *simulator.HostSystem, rulesets map[string]bool) {
	set := func(info *types.HostFirewallInfo) {
		if info == nil {
			return
		}
		for i := range info.Ruleset {
			if on, ok := rulesets[info.Ruleset[i].Key]; ok {
				info.Ruleset[i].Enabled = on
			}
		}
	}
	set(h.Config.Firewall)
	if h.ConfigManager.FirewallSystem != nil {
		if fw, ok := simulator.Map.Get(*h.ConfigManager.FirewallSystem).(*simulator.HostFirewallSystem); ok {
			set(fw.FirewallInfo)
		}
	}
}

// update changes one service in both serviceInfo and the host's config.service.
func (s *hostServiceSystem) update(id string, f func(*types.HostService)) types.BaseMethodFault {
	svc := findService(&s.ServiceInfo, id)
	if svc == nil {
		return &types.NotFound{}
	}
	f(svc)
	simulator.Map.WithLock(s.host, func() {
		if c := findService(s.host.Config.Service, id); c != nil {
			f(c)
		}
	})
	simulator.Map.Update(s, []types.PropertyChange{{Name: "serviceInfo", Val: s.ServiceInfo}})
	return nil
}

func (s *hostServiceSystem) StartService(req *types.StartService) soap.HasFault {
	body := &methods.StartServiceBody{}
	if f := s.update(req.Id, func(svc *types.HostService) { svc.Running = true }); f != nil {
		body.Fault_ = simulator.Fault("", f)
		return body
	}
	body.Res = &types.StartServiceResponse{}
	return body
}

func (s *hostServiceSystem) StopService(req *types.StopService) soap.HasFault {
	body := &methods.StopServiceBody{}
	if f := s.update(req.Id, func(svc *types.HostService) { svc.Running = false }); f != nil {
		body.Fault_ = simulator.Fault("", f)
		return body
	}
	body.Res = &types.StopServiceResponse{}
	return body
}

func (s *hostServiceSystem) RestartService(req *types.RestartService) soap.HasFault {
	body := &methods.RestartServiceBody{}
	if f := s.update(req.Id, func(svc *types.HostService) { svc.Running = true }); f != nil {
		body.Fault_ = simulator.Fault("", f)
		return body
	}
	body.Res = &types.RestartServiceResponse{}
	return body
}

func (s *hostServiceSystem) UpdateServicePolicy(req *types.UpdateServicePolicy) soap.HasFault {
	body := &methods.UpdateServicePolicyBody{}
	if f := s.update(req.Id, func(svc *types.HostService) { svc.Policy = req.Policy }); f != nil {
		body.Fault_ = simulator.Fault("", f)
		return body
	}
	body.Res = &types.UpdateServicePolicyResponse{}
	return body
}

func (s *hostServiceSystem) RefreshServices(req *types.RefreshServices) soap.HasFault {
	return &methods.RefreshServicesBody{Res: &types.RefreshServicesResponse{}}
}
