// The redactor: every registered secret is masked wherever it stands alone; a short one is not
// masked inside an ordinary word, where masking would mangle the line and spell the secret out
// ("wrong_password" as "wrong_***word" tells that the password is "pass").
import { afterAll, beforeAll, expect, test } from "bun:test";
import { clearSecretsForTest, redactSecrets, registerSecret } from "../../src/log/secrets.ts";

beforeAll(() => {
  clearSecretsForTest();
  for (const s of ["pass", "admin1", "a-very-long-secret-value", 'q"uote']) registerSecret(s);
});
afterAll(clearSecretsForTest);

test.each([
  ["wrong_password", "wrong_password"],
  ["vcenter.lab.password", "vcenter.lab.password"],
  ["pw=pass;", "pw=***;"],
  ['{"password":"pass"}', '{"password":"***"}'],
  ["pass pass", "*** ***"],
  ["xadmin1 admin1", "xadmin1 ***"],
  ["Xa-very-long-secret-valueY", "X***Y"],
  ['{"v":"q\\"uote"}', '{"v":"***"}'],
  ["on", "on"],
])("%p → %p", (input, want) => {
  expect(redactSecrets(input)).toBe(want);
});
