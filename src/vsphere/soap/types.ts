// Plain-data shapes for vim25 values, shared by the SOAP encoder, the decoder and the vSphere client.

export interface MoRef {
  type: string;
  value: string;
}

export type SoapValue = string | number | boolean | MoRef | SoapObject | SoapValue[] | null | undefined;

/**
 * A vim25 data object. Field order is insertion order, and the encoder keeps it: vim25 is order-sensitive.
 * `$type` is the xsi:type to emit (and, when decoding, the xsi:type local name the server sent).
 * `$value` together with `$type` emits a typed leaf, e.g. `{ $type: "xsd:string", $value: "x" }` for an anyType field.
 */
export interface SoapObject {
  $type?: string;
  [field: string]: SoapValue;
}

export const NS_SOAPENV = "http://schemas.xmlsoap.org/soap/envelope/";
export const NS_XSI = "http://www.w3.org/2001/XMLSchema-instance";
export const NS_XSD = "http://www.w3.org/2001/XMLSchema";
export const NS_VIM25 = "urn:vim25";
