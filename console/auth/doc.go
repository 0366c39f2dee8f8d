// Package auth holds the console's accounts, sessions and sign-in limits.
//
// Accounts live in a JSON file (mode 0600) with argon2id password hashes.
// A session is a random bearer token: the browser carries it in an
// HttpOnly SameSite=Strict cookie, the CLI in an Authorization header.
// Failed sign-ins are counted per user name and per client address, and a
// key is blocked for a while after too many.
package auth
