package main

import (
	"reflect"
	"sync"
	"unsafe"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
)

// swapObject replaces the registry entry for obj's moref with obj, without
// firing the registry's Put handlers. Map.Put would do the replacement too, but
// its handlers append the moref again to every ContainerView that holds it,
// so clients would list the VM twice. The registry's map and mutex are
// unexported, hence reflect+unsafe; the layout is that of govmomi 0.24.2.
func swapObject(obj mo.Reference) {
	r := reflect.ValueOf(simulator.Map).Elem()
	mf := r.FieldByName("m")
	of := r.FieldByName("objects")
	if !mf.IsValid() || !of.IsValid() || mf.Type() != reflect.TypeOf(sync.Mutex{}) {
		panic("swapObject: unexpected simulator.Registry layout")
	}
	mu := (*sync.Mutex)(unsafe.Pointer(mf.UnsafeAddr()))
	objects := reflect.NewAt(of.Type(), unsafe.Pointer(of.UnsafeAddr())).Elem()
	mu.Lock()
	defer mu.Unlock()
	objects.SetMapIndex(reflect.ValueOf(obj.Reference()), reflect.ValueOf(&obj).Elem())
}
