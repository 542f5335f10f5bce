// swiftserver: an in-memory OpenStack Swift for the interop tests
// (test/interop/swift_backend.sh), with Keystone v2 and v3 in front.
//
// Storage and v1 auth (GET /v1.0 with X-Auth-User/X-Auth-Key) are ncw/swift's
// swifttest, the server ncw/swift (and so restic) is tested against. Its
// account is -account with the same string as key. swifttest has no
// Keystone, so a second port serves one:
//
//	POST /v2.0/tokens       Keystone v2 (passwordCredentials + tenant)
//	POST /v3/auth/tokens    Keystone v3 (password method, project scope)
//	POST /_stash/expire     forgets every issued token: the next storage
//	                        request gets 401 and the client must re-auth
//
// The Swift port is a proxy in front of swifttest's own listener; with
// -expire-every N it forgets all tokens after every N storage requests, so
// a long run sees many 401s and must re-authenticate each time.
// Keystone checks its own user and password (-user, -password), then hands
// out a swifttest token it obtains through v1 auth. Catalogs list decoy
// endpoints (another region, non-public interfaces) that lead nowhere, so
// a client that picks the wrong one fails.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
	"time"

	"github.com/ncw/swift/v2/swifttest"
)

var (
	swiftAddr    = flag.String("swift", "127.0.0.1:0", "address of the Swift (and v1 auth) server")
	keystoneAddr = flag.String("keystone", "127.0.0.1:0", "address of the Keystone server")
	portFile     = flag.String("port-file", "", "write \"<swift port> <keystone port>\" here once listening")
	account      = flag.String("account", "stashtest", "Swift account; its v1 key is the same string")
	user         = flag.String("user", "demo", "Keystone user name")
	password     = flag.String("password", "secret", "Keystone password")
	tenantName   = flag.String("tenant", "demo-project", "Keystone tenant (v2) / project (v3) name")
	tenantID     = flag.String("tenant-id", "p0123456789", "Keystone tenant / project id")
	domain       = flag.String("domain", "Default", "Keystone v3 user and project domain name")
	region       = flag.String("region", "RegionTwo", "region of the real object-store endpoint")
	expireEvery  = flag.Int64("expire-every", 0, "forget all tokens after every N storage requests (0: never)")
)

// A decoy endpoint: nothing listens on port 1.
const decoy = "http://127.0.0.1:1/v1/AUTH_decoy"

type keystone struct {
	srv *swifttest.SwiftServer
}

// swiftToken logs in to swifttest with v1 auth, as Keystone's Swift would
// accept the Keystone token.
func (k *keystone) swiftToken() (token, storageURL string, err error) {
	req, _ := http.NewRequest("GET", k.srv.AuthURL, nil)
	req.Header.Set("X-Auth-User", *account)
	req.Header.Set("X-Auth-Key", *account)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", "", fmt.Errorf("v1 auth: %s", resp.Status)
	}
	return resp.Header.Get("X-Auth-Token"), resp.Header.Get("X-Storage-Url"), nil
}

func deny(w http.ResponseWriter, why string) {
	log.Printf("keystone: denied: %s", why)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprintf(w, `{"error": {"code": 401, "title": "Unauthorized", "message": %q}}`, why)
}

func reply(w http.ResponseWriter, status int, body interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (k *keystone) v2(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Auth struct {
			PasswordCredentials struct{ Username, Password string }
			TenantName          string
			TenantID            string `json:"tenantId"`
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	a := body.Auth
	if a.PasswordCredentials.Username != *user || a.PasswordCredentials.Password != *password {
		deny(w, "v2: wrong user name or password")
		return
	}
	if a.TenantName != *tenantName && a.TenantID != *tenantID {
		deny(w, "v2: unknown tenant")
		return
	}
	token, storage, err := k.swiftToken()
	if err != nil {
		reply(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	log.Printf("keystone: v2 token for %s tenant %q/%q", a.PasswordCredentials.Username, a.TenantName, a.TenantID)
	endpoint := func(reg, public string) map[string]string {
		return map[string]string{"region": reg, "publicURL": public, "internalURL": decoy, "adminURL": decoy}
	}
	expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	reply(w, http.StatusOK, map[string]interface{}{"access": map[string]interface{}{
		"token": map[string]interface{}{"id": token, "expires": expires,
			"tenant": map[string]string{"id": *tenantID, "name": *tenantName}},
		"serviceCatalog": []interface{}{
			map[string]interface{}{"type": "compute", "name": "nova",
				"endpoints": []interface{}{endpoint(*region, decoy)}},
			map[string]interface{}{"type": "object-store", "name": "swift",
				"endpoints": []interface{}{endpoint("RegionOne", decoy), endpoint(*region, storage)}},
		},
		"user": map[string]string{"name": *user, "id": "u1"},
	}})
}

type v3Name struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Domain *v3Name `json:"domain"`
}

func (k *keystone) v3(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Auth struct {
			Identity struct {
				Methods  []string
				Password struct {
					User struct {
						v3Name
						Password string
					}
				}
			}
			Scope struct{ Project *v3Name }
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	u := body.Auth.Identity.Password.User
	if len(body.Auth.Identity.Methods) != 1 || body.Auth.Identity.Methods[0] != "password" {
		deny(w, "v3: only the password method is offered")
		return
	}
	if u.Name != *user || u.Password != *password || u.Domain == nil || u.Domain.Name != *domain {
		deny(w, "v3: wrong user name, password or user domain")
		return
	}
	p := body.Auth.Scope.Project
	scoped := p != nil && (p.ID == *tenantID ||
		(p.Name == *tenantName && p.Domain != nil && p.Domain.Name == *domain))
	if !scoped {
		deny(w, "v3: the token must be scoped to the project")
		return
	}
	token, storage, err := k.swiftToken()
	if err != nil {
		reply(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	log.Printf("keystone: v3 token for %s project %q/%q", u.Name, p.Name, p.ID)
	endpoint := func(iface, reg, url string) map[string]string {
		return map[string]string{"id": iface + reg, "interface": iface, "region": reg, "region_id": reg, "url": url}
	}
	w.Header().Set("X-Subject-Token", token)
	reply(w, http.StatusCreated, map[string]interface{}{"token": map[string]interface{}{
		"methods":    []string{"password"},
		"expires_at": time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z"),
		"project":    map[string]interface{}{"id": *tenantID, "name": *tenantName, "domain": map[string]string{"name": *domain}},
		"catalog": []interface{}{
			map[string]interface{}{"type": "object-store", "name": "swift", "endpoints": []interface{}{
				endpoint("internal", *region, decoy),
				endpoint("admin", *region, decoy),
				endpoint("public", "RegionOne", decoy),
				endpoint("public", *region, storage),
			}},
		},
	}})
}

func (k *keystone) expire(w http.ResponseWriter, r *http.Request) {
	k.forget()
	w.WriteHeader(http.StatusNoContent)
}

func (k *keystone) forget() {
	k.srv.Lock()
	n := len(k.srv.Sessions)
	for id := range k.srv.Sessions {
		delete(k.srv.Sessions, id)
	}
	k.srv.Unlock()
	log.Printf("expired %d tokens", n)
}

func post(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

func main() {
	flag.Parse()
	log.SetFlags(log.Ltime)
	swifttest.TEST_ACCOUNT = *account
	front, err := net.Listen("tcp", *swiftAddr)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := swifttest.NewSwiftServer("127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	// v1 logins hand out storage URLs on the front port.
	srv.URL = "http://" + front.Addr().String() + "/v1"
	// Logs v1 logins, so tests can count (re-)authentications.
	srv.SetOverride("/v1.0", func(w http.ResponseWriter, r *http.Request, rec *httptest.ResponseRecorder) {
		log.Printf("v1 auth for %q: %d", r.Header.Get("X-Auth-User"), rec.Code)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
	k := &keystone{srv: srv}
	mux := http.NewServeMux()
	mux.HandleFunc("/v2.0/tokens", post(k.v2))
	mux.HandleFunc("/v3/auth/tokens", post(k.v3))
	mux.HandleFunc("/_stash/expire", post(k.expire))
	ks, err := net.Listen("tcp", *keystoneAddr)
	if err != nil {
		log.Fatal(err)
	}
	backend, _ := url.Parse("http://" + srv.Listener.Addr().String())
	proxy := httputil.NewSingleHostReverseProxy(backend)
	var served int64
	go func() {
		log.Fatal(http.Serve(front, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			proxy.ServeHTTP(w, r)
			if n := atomic.AddInt64(&served, 1); *expireEvery > 0 && n%*expireEvery == 0 {
				k.forget()
			}
		})))
	}()
	swiftPort := front.Addr().(*net.TCPAddr).Port
	keystonePort := ks.Addr().(*net.TCPAddr).Port
	log.Printf("swift on %d (auth %s), keystone on %d", swiftPort, srv.AuthURL, keystonePort)
	if *portFile != "" {
		if err := os.WriteFile(*portFile, []byte(fmt.Sprintf("%d %d\n", swiftPort, keystonePort)), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	log.Fatal(http.Serve(ks, mux))
}
