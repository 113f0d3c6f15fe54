// Text imports (`with { type: "text" }`) of non-code files embedded in the binary.
declare module "*.service" {
  const text: string;
  export default text;
}
declare module "*.toml" {
  const text: string;
  export default text;
}
