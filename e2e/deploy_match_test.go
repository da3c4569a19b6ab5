package e2e

import (
	"encoding/json"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestComposeMatchesK8s holds the Kubernetes manifests to what TestDocker
// proves with deploy/compose.yaml: the same image (user, ports), the same
// commands, configuration, probes, environment and mount points, the same
// container hardening and grace period. Only what must differ between a
// laptop and a cluster may differ: host names, the Redis address, the list
// source, and how secrets arrive (env_file and bind mounts, Secrets).
func TestComposeMatchesK8s(t *testing.T) {
	root := repoRoot(t)
	objs := loadK8s(t)
	doc, err := parseYAML(readFile(t, root, "deploy", "compose.yaml"))
	if err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	svc := func(name string) map[string]any { return composeService(t, doc, name) }
	pod := func(kind, name string) (map[string]any, map[string]any) {
		o := find(t, objs, kind, name)
		p := mapping(o.doc, "spec", "template", "spec")
		cs := seq(p, "containers")
		if len(cs) != 1 {
			t.Fatalf("%s %s: want one container, got %d", kind, name, len(cs))
		}
		return p, cs[0].(map[string]any)
	}
	image := dockerfileRuntime(t, readFile(t, root, "deploy", "Dockerfile"))

	// The serve configuration: identical but for host names and Redis's
	// address.
	cm := find(t, objs, "ConfigMap", "blindlist-config")
	k8sServe := serveJSON(t, str(cm.doc, "data", "serve.json"))
	composeServe := serveJSON(t, readFile(t, root, "deploy", "compose", "serve.json"))
	if !reflect.DeepEqual(k8sServe, composeServe) {
		t.Errorf("serve.json differs beyond hosts and redisAddr:\n k8s:     %v\n compose: %v", k8sServe, composeServe)
	}

	secretsEnv := composeInitEnv(t)
	for _, tc := range []struct {
		compose  string
		kind     string
		name     string
		probe    string // the k8s probe compose's health check must equal
		freeArgs []string
	}{
		{"service-a", "Deployment", "blindlist-service", "readinessProbe", nil},
		{"service-b", "Deployment", "blindlist-service", "readinessProbe", nil},
		{"gateway", "Deployment", "blindlist-gateway", "readinessProbe", []string{"--target", "--upstream"}},
		{"build", "Job", "blindlist-build", "", []string{"--source"}},
	} {
		t.Run(tc.compose, func(t *testing.T) {
			s := svc(tc.compose)
			p, c := pod(tc.kind, tc.name)

			// Same image: kustomize's "blindlist", compose's BLINDLIST_IMAGE,
			// both built from deploy/Dockerfile's runtime stage, whose user
			// and ports the pod spec must agree with.
			if img := str(s, "image"); !strings.HasPrefix(img, "${BLINDLIST_IMAGE") || str(c, "image") != "blindlist" {
				t.Errorf("images: compose %q, k8s %q", img, str(c, "image"))
			}
			user := str(p, "securityContext", "runAsUser") + ":" + str(p, "securityContext", "runAsGroup")
			if user != image.user {
				t.Errorf("k8s runs as %s, the image's USER is %s", user, image.user)
			}
			for _, port := range seq(c, "ports") {
				if !slices.Contains(image.expose, str(port, "containerPort")) {
					t.Errorf("k8s containerPort %s is not EXPOSEd by the image (%v)", str(port, "containerPort"), image.expose)
				}
			}

			// Same command, apart from what names the environment.
			if got, want := argsWithout(seq(s, "command"), tc.freeArgs), argsWithout(seq(c, "args"), tc.freeArgs); !slices.Equal(got, want) {
				t.Errorf("command: compose %q, k8s %q", got, want)
			}

			// Same environment variable names; equal values where compose
			// spells them out (secrets come from compose-init.sh's files).
			composeEnv := map[string]string{}
			maps.Copy(composeEnv, stringMap(mapping(s, "environment")))
			for _, f := range seq(s, "env_file") {
				for k := range secretsEnv[filepath.Base(f.(string))] {
					composeEnv[k] = "(secret)"
				}
			}
			k8sEnv := map[string]string{}
			for _, e := range seq(c, "env") {
				v := str(e, "value")
				if v == "" {
					v = "(secret)"
				}
				k8sEnv[str(e, "name")] = v
			}
			if !maps.Equal(composeEnv, k8sEnv) {
				t.Errorf("environment: compose %v, k8s %v", composeEnv, k8sEnv)
			}

			// Same mount points, read-only alike. A compose single-file mount
			// sits inside the directory k8s mounts.
			k8sMounts := map[string]bool{}
			for _, m := range seq(c, "volumeMounts") {
				k8sMounts[str(m, "mountPath")] = str(m, "readOnly") == "true"
			}
			covered := map[string]bool{}
			for _, v := range seq(s, "volumes") {
				// ${VAR:-default} holds a colon of its own.
				parts := strings.Split(regexp.MustCompile(`\$\{[^}]*\}`).ReplaceAllString(v.(string), "VAR"), ":")
				target, ro := parts[1], len(parts) > 2 && parts[2] == "ro"
				mp, ok := k8sMount(k8sMounts, target)
				if !ok {
					t.Errorf("compose mounts %s, which no k8s volumeMount covers (%v)", target, slices.Sorted(maps.Keys(k8sMounts)))
					continue
				}
				covered[mp] = true
				if k8sMounts[mp] != ro {
					t.Errorf("%s: read-only %v in compose, %v in k8s", target, ro, k8sMounts[mp])
				}
			}
			for mp := range k8sMounts {
				if !covered[mp] {
					t.Errorf("k8s mounts %s, compose does not", mp)
				}
			}

			// Same hardening.
			if str(s, "read_only") != "true" || str(c, "securityContext", "readOnlyRootFilesystem") != "true" {
				t.Error("want a read-only root filesystem in both")
			}
			if !slices.Contains(seq(s, "cap_drop"), any("ALL")) || !slices.Contains(seq(c, "securityContext", "capabilities", "drop"), any("ALL")) {
				t.Error("want every capability dropped in both")
			}
			if !slices.Contains(seq(s, "security_opt"), any("no-new-privileges:true")) || str(c, "securityContext", "allowPrivilegeEscalation") != "false" {
				t.Error("want no privilege escalation in both")
			}
			if tc.kind == "Job" {
				return
			}

			// Docker's health check is the k8s readiness probe: same port
			// and path.
			hc := seq(s, "healthcheck", "test")
			if len(hc) != 4 || hc[0] != "CMD" || hc[1] != "/usr/local/bin/blindlist" || hc[2] != "probe" {
				t.Fatalf("compose health check %q: want [CMD /usr/local/bin/blindlist probe URL]", hc)
			}
			u, err := url.Parse(hc[3].(string))
			if err != nil {
				t.Fatal(err)
			}
			probePort := containerPort(c, str(c, tc.probe, "httpGet", "port"))
			if u.Port() != probePort || u.Path != str(c, tc.probe, "httpGet", "path") {
				t.Errorf("compose health check %s, k8s %s on port %s path %s", u, tc.probe, probePort, str(c, tc.probe, "httpGet", "path"))
			}
			checkSubcommand(t, "probe")

			// Same grace period for the drain on SIGTERM.
			grace, err := time.ParseDuration(str(s, "stop_grace_period"))
			if err != nil || strconv.Itoa(int(grace.Seconds())) != str(p, "terminationGracePeriodSeconds") {
				t.Errorf("stop_grace_period %q, terminationGracePeriodSeconds %q", str(s, "stop_grace_period"), str(p, "terminationGracePeriodSeconds"))
			}
		})
	}
}

// composeService returns a compose service with its "<<: *blindlist"
// merge key resolved against the x-blindlist extension.
func composeService(t *testing.T, doc yamlNode, name string) map[string]any {
	t.Helper()
	s := mapping(doc, "services", name)
	if s == nil {
		t.Fatalf("compose.yaml has no service %q", name)
	}
	out := map[string]any{}
	if m := str(s, "<<"); m != "" {
		if m != "*blindlist" {
			t.Fatalf("service %s merges %s, want *blindlist", name, m)
		}
		maps.Copy(out, mapping(doc, "x-blindlist"))
	}
	maps.Copy(out, s)
	delete(out, "<<")
	return out
}

// serveJSON decodes a serve configuration with what differs between
// compose and k8s removed: host names and Redis's address.
func serveJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	for _, v := range m["vendors"].([]any) {
		delete(v.(map[string]any), "hosts")
	}
	delete(m["keyStore"].(map[string]any), "redisAddr")
	return m
}

// composeInitEnv runs deploy/compose-init.sh into a fresh directory and
// returns the variables of each .env file it writes.
func composeInitEnv(t *testing.T) map[string]map[string]bool {
	t.Helper()
	dir := t.TempDir()
	run(t, time.Minute, nil, filepath.Join(repoRoot(t), "deploy", "compose-init.sh"), dir)
	files, _ := filepath.Glob(filepath.Join(dir, "*.env"))
	out := map[string]map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string]bool{}
		for _, l := range strings.Split(string(b), "\n") {
			if k, _, ok := strings.Cut(l, "="); ok {
				vars[k] = true
			}
		}
		out[filepath.Base(f)] = vars
	}
	if len(out) == 0 {
		t.Fatal("compose-init.sh wrote no .env file")
	}
	return out
}

// argsWithout returns args as strings, "--flag=value" and "--flag value"
// alike as "--flag=value", without the flags named in drop.
func argsWithout(args []any, drop []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i].(string)
		if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1].(string), "--") {
			a += "=" + args[i+1].(string)
			i++
		}
		name, _, _ := strings.Cut(a, "=")
		if !slices.Contains(drop, name) {
			out = append(out, a)
		}
	}
	return out
}

// k8sMount returns the k8s mount path that is target or holds it.
func k8sMount(mounts map[string]bool, target string) (string, bool) {
	for mp := range mounts {
		if target == mp || strings.HasPrefix(target, mp+"/") {
			return mp, true
		}
	}
	return "", false
}

// containerPort resolves a named port of container c to its number.
func containerPort(c map[string]any, name string) string {
	for _, p := range seq(c, "ports") {
		if str(p, "name") == name {
			return str(p, "containerPort")
		}
	}
	return name
}

func stringMap(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v.(string)
	}
	return out
}

// runtimeStage is what a Dockerfile's last stage says about the container.
type runtimeStage struct {
	from   string
	user   string
	expose []string
	lines  []string // the stage's instructions, COPY sources normalised
}

// dockerfileRuntime parses a Dockerfile's last stage.
func dockerfileRuntime(t *testing.T, df string) runtimeStage {
	t.Helper()
	var st runtimeStage
	for _, l := range logicalLines(df) {
		f := strings.Fields(l)
		switch strings.ToUpper(f[0]) {
		case "FROM":
			st = runtimeStage{from: f[1]}
			continue
		case "USER":
			st.user = f[1]
		case "EXPOSE":
			st.expose = append(st.expose, f[1:]...)
		case "COPY":
			// COPY [--from=stage] [--chown=u:g] SRC DEST: the destination
			// and ownership matter, not where the files come from.
			var kept []string
			for _, a := range f[1 : len(f)-2] {
				if !strings.HasPrefix(a, "--from=") {
					kept = append(kept, a)
				}
			}
			l = strings.Join(append(append([]string{"COPY"}, kept...), f[len(f)-1]), " ")
		}
		st.lines = append(st.lines, l)
	}
	return st
}
