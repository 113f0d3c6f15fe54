/** Distinctive values written under secret-looking keys, spelt right or wrong, in every section. */
export const LEAKS = ["Lk7-pasword-value", "Lk7-passwd-value", "Lk7-pwd-value", "Lk7-token-value", "Lk7-secret-value", "Lk7-multi-line", "87654321", "Lk7-inline-pwd", "Lk7-table-value"];

export function leakyConfig(extra = ""): string {
  return `[daemon]
client_secret = "${LEAKS[4]}"
db_password = { value = "${LEAKS[8]}" }

[vcenter.lab]
url = "https://vcsa.example/sdk"
username = "u"
pasword = "${LEAKS[0]}"
password = ${LEAKS[6]}

[esxi.esx01]
url = "https://esx01.example/sdk"
username = "root"
password = "env:UNSET_ESX01"
bmc = { address = "10.0.0.9", username = "u", pwd = "${LEAKS[7]}" }

[[bmc]]
vm = "a"
port = 7000
username = "admin"
passwd = '${LEAKS[1]}'
password = "env:UNSET_BMC"

[[bmc]]
vm = "b"
port = 7001
username = "admin"
pwd = "${LEAKS[2]}"
api_token = """${LEAKS[3]}
${LEAKS[5]}"""
password = "env:UNSET_BMC"
${extra}`;
}

