package crosscheck

// diffClass names the cause of a difference between the engine and pySigma.
type diffClass string

// shape is how an outcome differs: which side matched events the other
// did not, or whether pySigma or Elasticsearch rejected the rule.
type shape int

const (
	engineOnly   shape = iota + 1 // the engine matched events the query did not
	pysigmaOnly                   // the query matched events the engine did not
	bothExtra                     // each side matched events the other did not
	rejected                      // pySigma could not convert the rule
	searchFailed                  // Elasticsearch rejected the query
)

// difference is an expected difference for one rule.
type difference struct {
	class  diffClass
	shape  shape
	reason string
}

func shapeOf(o outcome) shape {
	switch {
	case o.convertErr != "":
		return rejected
	case o.searchErr != "":
		return searchFailed
	case len(o.engine) > 0 && len(o.pysigma) > 0:
		return bothExtra
	case len(o.engine) > 0:
		return engineOnly
	case len(o.pysigma) > 0:
		return pysigmaOnly
	}
	return 0
}

func (d difference) matchesShape(o outcome) bool { return shapeOf(o) == d.shape }

// Difference classes found with pySigma 1.5.1 and
// pySigma-backend-elasticsearch 2.1.1.
const (
	// Sigma compares strings case-insensitively, and so does the engine.
	// The Lucene backend writes the rule's value as it is, and a keyword
	// field compares case-sensitively. Only the .caseless fields that
	// ecs_windows uses for executables (process.executable.caseless) ignore
	// case. process.command_line is keyword here and wildcard in Elastic's
	// ECS templates, and both types are case-sensitive.
	classCase diffClass = "case-sensitive keyword"
	// The re modifier searches anywhere in the value with the PCRE-like
	// syntax of SigmaHQ rules, and the engine uses Go regexp with that
	// meaning. The backend passes the expression to a Lucene regexp query,
	// whose dialect differs. A Lucene regexp must match the whole term and
	// supports neither (?i) nor \s. It reads ^ and $ as literal characters
	// and " as the start of a quoted string. ES also rejects an expression
	// whose automaton needs more than 10000 states.
	classRegex diffClass = "Lucene regexp dialect"
	// ECS maps source.ip and destination.ip as the ip type. The backend
	// writes the Sigma values "-" and "127.*" as a term, wildcard or prefix
	// query, which ES rejects on an ip field ("'-' is not an IP string
	// literal", "Can only use wildcard queries on keyword, text and wildcard
	// fields"), so the whole query fails.
	classIPField diffClass = "non-IP value on ip field"
	// pySigma-backend-elasticsearch 2.1.1 has processing pipelines for
	// Windows, Zeek, Kubernetes and macOS, but none for Linux. A Linux rule
	// therefore queries its Sigma field names (type, a0, name), which no
	// ECS document has, while canhgac's fieldmap reads auditd.log.*.
	classNoLinuxMapping diffClass = "no Linux field mapping"
	// The backend rejects the fieldref modifier ("ES Lucene backend can't
	// handle field references"), because query_string cannot compare two
	// fields. The engine supports it.
	classFieldRef diffClass = "fieldref unsupported"
)

// expectedDifferences lists, by rule id, each sampled rule on which the
// engine and pySigma disagree, with the reason.
var expectedDifferences = map[string]difference{
	// win_security_explicit_credential_local_logon: SubjectUserName|fieldref: TargetUserName.
	"e3c6d245-7b8f-4e2a-c17f-a9d0e5b38f62": {classFieldRef, rejected,
		"the rule compares two fields with fieldref"},
	// proc_creation_win_susp_cross_user_process_spawn: ParentUser|fieldref: User.
	"d2b7a134-9c3e-4f8a-b56d-e0c1f8a29b47": {classFieldRef, rejected,
		"the rule compares two fields with fieldref"},

	// proc_creation_win_curl_download_direct_ip_exec
	"9cc85849-3b02-4cb5-b371-3a1ff54f2218": {classRegex, engineOnly,
		`CommandLine|re ://[0-9]{1,3}\.… occurs inside "curl --output hello.txt https://12.34.56.78/...", but a Lucene regexp must match the whole command line`},
	// proc_creation_win_curl_download_direct_ip_susp_extensions
	"5cb299fc-5fb1-4d07-b989-0644c68b6043": {classRegex, engineOnly,
		`the same ://<IPv4> regular expression as the rule above, so only a whole-term match would do`},
	// proc_creation_win_hktl_wsass: ES 8.17 cannot turn the regexp into an
	// automaton within its limit of 10000 states ("Determinizing ... would
	// require more than 10000 effort") and rejects the whole query. With
	// index.query.default_field left at "*", query_string is lenient: it
	// silently drops that clause, and the rule matches through its other OR
	// branches. This index names its default fields, as Beats' templates do.
	"589ac73f-8e12-409c-964e-31a2f5775ae2": {classRegex, searchFailed,
		`CommandLine|re (?i)\.exe["']?\s+[^"]{0,64}werfaultsecure\.exe["']?\s+\d{2,10} is too complex for a Lucene automaton`},
	// proc_creation_win_curl_ntlm_hash_leak_attempt
	"916eb839-895e-47f8-99ee-3008bf377a3e": {classRegex, engineOnly,
		`CommandLine|re (?i)\s(-u|--user)\s*: is a substring of "curl  -u : --ntlm ..."; Lucene regexp is anchored and reads (?i) and \s as no such operators`},

	// proc_creation_win_autologger_session_registry_modification
	"d7b81144-b866-48a4-9bcc-275dc69d870e": {classCase, engineOnly,
		`the rule asks for "Start" or "Enabled"; the command line has "/v start"`},
	// proc_creation_win_dism_remove
	"43e32da2-fdd0-4156-90de-50dfd62636f9": {classCase, engineOnly,
		`the rule asks for "/Online"; the command line has "/online"`},
	// proc_creation_win_explorer_folder_shortcut_via_shell_binary
	"c3d76afc-93df-461e-8e67-9b2bad3f2ac4": {classCase, engineOnly,
		`the rule asks for "shell:mycomputerfolder"; the command line has "shell:MyComputerFolder"`},
	// proc_creation_win_hh_chm_execution
	"68c8acb4-1b60-4890-8e82-3ddf7a6dba84": {classCase, engineOnly,
		`the rule asks for ".chm"; the command line has "IMTCTC14.CHM"`},
	// proc_creation_win_reg_add_run_key
	"de587dce-915e-4218-aac4-835ca6af6f70": {classCase, engineOnly,
		`the rule asks for "reg" and " add "; the command line has "REG   ADD"`},
	// proc_creation_win_reg_add_safeboot
	"d7662ff6-9e97-4596-a61d-9839e32dee8d": {classCase, engineOnly,
		`the rule asks for "\SYSTEM\CurrentControlSet\Control\SafeBoot"; the command line has "\system\CurrentControlSet\control\safeboot"`},
	// proc_creation_win_registry_special_accounts_hide_user
	"9ec9fb1b-e059-4489-9642-f270c207923d": {classCase, engineOnly,
		`the rule asks for "...\SpecialAccounts\UserList" and "add"; the command line has "Userlist" and "ADD"`},
	// proc_creation_win_user_shell_folders_registry_modification
	"8f3ab69a-aa22-4943-aa58-e0a52fdf6818": {classCase, engineOnly,
		`the rule asks for "\Software\Microsoft\..."; the command line has "HKLM\SOFTWARE\Microsoft\..."`},
	// proc_creation_win_wmic_recon_product: both match the "Product" of
	// another case's command line.
	"15434e33-5027-4914-88d5-3d4145ec25a9": {classCase, engineOnly,
		`the rule asks for "Product"; its own case's command line has "product where ..."`},
	// proc_creation_win_wmic_recon_system_info_uncommon
	"9d5a1274-922a-49d0-87f3-8c653483b909": {classCase, engineOnly,
		`the rule asks for "os get Caption,OSArchitecture,Version"; the command line has "OS get ..."`},
	// proc_creation_win_wmic_stdregprov_reg_modification
	"c453ab7a-1f5c-4716-a3b4-dea8135fb43a": {classCase, engineOnly,
		`the rule asks for "stdregprov"; the command line has "StdRegProv"`},
	// proc_creation_win_wmic_uninstall_security_products
	"847d5ff3-8a31-4737-a970-aeae8fe21765": {classCase, engineOnly,
		`the rule asks for "wmic" in the command line, which has "WMIC.exe"`},
}

// expectedLinuxDifferences lists, by rule id, each Linux rule on which the
// engine and pySigma disagree over the shared Linux logs, with the reason.
var expectedLinuxDifferences = map[string]difference{
	// lnx_auditd_binary_padding
	"c52a914f-3d8b-4b2a-bb75-b3991e75f8ba": {classNoLinuxMapping, engineOnly,
		`the query asks for type:EXECVE; canhgac stores the record types in auditd.log.record_types`},
	// lnx_auditd_dd_delete_file
	"37222991-11e9-4b6d-8bdf-60fbe48f753e": {classNoLinuxMapping, engineOnly,
		`the query asks for type, a0 and a1; canhgac stores auditd.log.record_types and auditd.log.execve.a0, a1`},
	// lnx_auditd_keylogging_with_pam_d
	"49aae26c-450e-448b-911d-b3c13d178dfc": {classNoLinuxMapping, engineOnly,
		`the query asks for type:(TTY OR USER_TTY); canhgac stores auditd.log.record_type`},
	// lnx_cron_crontab_file_modification: the matched line is a fail2ban
	// test annotation that contains "to replace prev multiline version".
	"af202fd3-7bff-4212-a25a-fb34606cfcbe": {classCase, engineOnly,
		`the rule's keyword is "REPLACE"; the log line has "replace"`},
}

// expectedAttackSampleDifferences lists, by rule id, each Windows rule on
// which the engine and pySigma disagree over the shared EVTX attack samples,
// with the reason.
var expectedAttackSampleDifferences = map[string]difference{
	"e3c6d245-7b8f-4e2a-c17f-a9d0e5b38f62": expectedDifferences["e3c6d245-7b8f-4e2a-c17f-a9d0e5b38f62"],
	"d2b7a134-9c3e-4f8a-b56d-e0c1f8a29b47": expectedDifferences["d2b7a134-9c3e-4f8a-b56d-e0c1f8a29b47"],
	"589ac73f-8e12-409c-964e-31a2f5775ae2": expectedDifferences["589ac73f-8e12-409c-964e-31a2f5775ae2"],

	// win_security_successful_external_remote_rdp_login
	"259a9cdf-c4dd-4fa2-b243-2269e5ab18a2": {classIPField, searchFailed,
		`the filter IpAddress: '-' becomes source.ip:\-`},
	// win_security_successful_external_remote_smb_login
	"78d5cab4-557e-454f-9fb9-a222bd0d5edc": {classIPField, searchFailed,
		`the filter IpAddress: '-' becomes source.ip:\-`},
	// win_security_susp_failed_logon_source
	"f88e112a-21aa-44bd-9b01-6ee2a2bbbed1": {classIPField, searchFailed,
		`the filter IpAddress|contains: '-' becomes the wildcard source.ip:*\-*`},
	// win_security_rdp_reverse_tunnel
	"5bed80b6-b3e8-428e-a3ae-d3c757589e41": {classIPField, searchFailed,
		`DestAddress|startswith: '127.' becomes the prefix query destination.ip:127.*`},

	// win_security_metasploit_authentication: the 4625 events of
	// DeepBlueCLI's SMB password guessing have random 16-character
	// workstation names.
	"72124974-a68b-4366-b990-d30e0b2a190d": {classRegex, engineOnly,
		`in WorkstationName|re ^[A-Za-z0-9]{16}$ Lucene reads ^ and $ as literal characters, so no workstation name matches`},
	// posh_ps_invoke_obfuscation_stdin
	"779c8c12-0eb1-11eb-adc1-0242ac120002": {classRegex, searchFailed,
		`Lucene regexp syntax reads " as the start of a quoted string, and the rule's single " is unbalanced`},
	// posh_ps_invoke_obfuscation_var
	"0adfbc14-0ed1-11eb-adc1-0242ac120002": {classRegex, searchFailed,
		`Lucene regexp syntax reads " as the start of a quoted string, and the rule's " are unbalanced`},

	// win_security_lm_namedpipe: the bloodhound sample's 5145 event for
	// RelativeTargetName "NETLOGON".
	"52d8b0c6-53d6-439a-9e41-52ad442ad9ad": {classCase, pysigmaOnly,
		`the filter lists "netlogon"; the event has "NETLOGON", so only the engine excludes it`},
}
