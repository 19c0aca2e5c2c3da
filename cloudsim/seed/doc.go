// Package seed owns the demo data: it creates an installer company with its accounts, an
// end user, a site with devices, a box with linked channels and storage packages (one
// channel deliberately without), and hands the site over with a granted authorization.
//
// It drives the public API through its http.Handler, so seeding obeys exactly the rules
// any client does. A spec comes from a JSON file or the built-in Demo. Seeding an
// already seeded store is a no-op (the admin email exists).
package seed
