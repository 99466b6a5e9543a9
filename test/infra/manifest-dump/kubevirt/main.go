// Command kubevirt-manifest-dump writes, as YAML files, the cluster objects virt-operator installs
// for the virt-controller and virt-api of the KubeVirt release this module is built against.
// Every object comes from the operator's own generator packages, so the integration tier gets
// exactly the CRDs, RBAC and webhook configurations of that release, not a hand-written copy.
//
// It is compiled by test/infra/build-control-plane-binaries.sh inside a generated wrapper module
// that requires kubevirt.io/kubevirt; it has no go.mod of its own in this repository.
//
// Output (one directory, files applied in name order):
//
//	00-namespace.yaml            the install namespace and the kubevirt-cluster-critical PriorityClass
//	10-crds.yaml                 KubeVirt CRD (from kubevirt-operator.yaml) + every CRD of the install strategy
//	20-rbac-cluster.yaml         kubevirt.io:default/view/edit/admin/migrate ... (rbac.GetAllCluster)
//	20-rbac-virt-api.yaml        virt-api ServiceAccount, ClusterRoles, Roles and bindings
//	20-rbac-virt-controller.yaml virt-controller ServiceAccount, ClusterRoles, Roles and bindings
//	20-rbac-virt-handler.yaml    virt-handler ServiceAccount, ClusterRoles, Roles and bindings (for the node stand-in)
//	30-virt-api-service.yaml     the virt-api Service and its subresources.kubevirt.io APIServices
//	40-webhooks.yaml             virt-api's Validating/MutatingWebhookConfigurations (no caBundle)
//	50-kubevirt-cr.yaml          a default KubeVirt CR (virt-api/virt-controller read their config from it)
//	reference/*.yaml             what the operator would deploy (Deployments, certificate Secrets and
//	                             ConfigMaps without data): flags, env and mounts to mirror, not to apply
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	apiregv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"sigs.k8s.io/yaml"

	virtv1 "kubevirt.io/api/core/v1"

	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/components"
	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/install"
	"kubevirt.io/kubevirt/pkg/virt-operator/resource/generate/rbac"
	operatorutil "kubevirt.io/kubevirt/pkg/virt-operator/util"
)

var scheme = runtime.NewScheme()

func init() {
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, extv1.AddToScheme, apiregv1.AddToScheme, virtv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
}

func main() {
	out := flag.String("out", "", "directory to write the YAML files to (created)")
	namespace := flag.String("namespace", "kubevirt", "install namespace (virt-operator's default)")
	version := flag.String("version", "", "KubeVirt release, e.g. v1.8.0 (image tags and install-strategy annotations)")
	registry := flag.String("registry", "quay.io/kubevirt", "image registry written into the reference Deployments")
	flag.Parse()
	if *out == "" || *version == "" {
		fail(fmt.Errorf("usage: %s -out DIR -version vX.Y.Z [-namespace kubevirt]", os.Args[0]))
	}

	// virt-operator derives its deployment config from its own image and KUBEVIRT_VERSION.
	must(os.Setenv(operatorutil.VirtOperatorImageEnvName, fmt.Sprintf("%s/virt-operator:%s", *registry, *version)))
	must(os.Setenv(operatorutil.KubeVirtVersionEnvName, *version))

	kv := &virtv1.KubeVirt{
		TypeMeta:   metav1.TypeMeta{APIVersion: virtv1.GroupVersion.String(), Kind: "KubeVirt"},
		ObjectMeta: metav1.ObjectMeta{Name: "kubevirt", Namespace: *namespace},
		Spec: virtv1.KubeVirtSpec{
			ImagePullPolicy: corev1.PullIfNotPresent,
			Configuration:   virtv1.KubeVirtConfiguration{DeveloperConfiguration: &virtv1.DeveloperConfiguration{}},
		},
	}
	config := operatorutil.GetTargetConfigFromKV(kv)
	// Upstream installs virt-operator in the same namespace as the components.
	strategy, err := install.GenerateCurrentInstallStrategy(config, "", *namespace)
	must(err)

	// What virt-operator stamps on every object it creates (apply.injectOperatorMetadata); the
	// shared informers of virt-controller select operator-managed objects by the managed-by label.
	operatorMeta := func(objs ...runtime.Object) []runtime.Object {
		for _, o := range objs {
			m, err := meta.Accessor(o)
			must(err)
			labels := m.GetLabels()
			if labels == nil {
				labels = map[string]string{}
			}
			labels[virtv1.AppComponentLabel] = virtv1.AppComponent
			labels[virtv1.ManagedByLabel] = virtv1.ManagedByLabelOperatorValue
			m.SetLabels(labels)
			ann := m.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann[virtv1.InstallStrategyVersionAnnotation] = config.GetKubeVirtVersion()
			ann[virtv1.InstallStrategyRegistryAnnotation] = config.GetImageRegistry()
			ann[virtv1.InstallStrategyIdentifierAnnotation] = config.GetDeploymentID()
			m.SetAnnotations(ann)
		}
		return objs
	}

	header := fmt.Sprintf("# kubevirt.io/kubevirt %s, namespace %s: generated by test/infra/manifest-dump/kubevirt from virt-operator's packages\n", *version, *namespace)
	files := map[string][]runtime.Object{}

	// As kubevirt-operator.yaml creates them, before the operator runs.
	files["00-namespace.yaml"] = []runtime.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name:   *namespace,
			Labels: map[string]string{"kubevirt.io": "", "pod-security.kubernetes.io/enforce": "privileged"},
		}},
		components.NewKubeVirtPriorityClassCR(),
	}

	kvCRD, err := components.NewKubeVirtCrd()
	must(err)
	crds := []runtime.Object{kvCRD}
	for _, crd := range strategy.CRDs() {
		crds = append(crds, operatorMeta(crd)...)
	}
	files["10-crds.yaml"] = crds

	// Same calls (and arguments) as install.GenerateCurrentInstallStrategy, grouped per component.
	files["20-rbac-cluster.yaml"] = operatorMeta(rbac.GetAllCluster()...)
	files["20-rbac-virt-api.yaml"] = operatorMeta(rbac.GetAllApiServer(*namespace)...)
	files["20-rbac-virt-controller.yaml"] = operatorMeta(rbac.GetAllController(*namespace, !config.ExternalNetResourceInjectionEnabled())...)
	// virt-handler runs as a node stand-in under its own ServiceAccount and RBAC.
	files["20-rbac-virt-handler.yaml"] = operatorMeta(rbac.GetAllHandler(*namespace)...)
	mustBeInStrategy(strategy, files["20-rbac-cluster.yaml"], files["20-rbac-virt-api.yaml"], files["20-rbac-virt-controller.yaml"], files["20-rbac-virt-handler.yaml"])

	svc := []runtime.Object{components.NewApiServerService(*namespace)}
	for _, a := range components.NewVirtAPIAPIServices(*namespace) {
		svc = append(svc, a)
	}
	files["30-virt-api-service.yaml"] = operatorMeta(svc...)

	// Only virt-api's own webhooks: virt-operator's validator points at the operator (not run here)
	// and the launcher-pod mutator is created only with its feature gate.
	files["40-webhooks.yaml"] = operatorMeta(
		components.NewVirtAPIValidatingWebhookConfiguration(*namespace),
		components.NewVirtAPIMutatingWebhookConfiguration(*namespace),
	)

	files["50-kubevirt-cr.yaml"] = []runtime.Object{kv}

	var deployments []runtime.Object
	for _, d := range append(strategy.ApiDeployments(), strategy.ControllerDeployments()...) {
		deployments = append(deployments, d)
	}
	files[filepath.Join("reference", "deployments.yaml")] = operatorMeta(deployments...)
	var certs []runtime.Object
	for _, s := range strategy.CertificateSecrets() {
		certs = append(certs, s)
	}
	for _, c := range strategy.ConfigMaps() {
		certs = append(certs, c)
	}
	files[filepath.Join("reference", "certificates.yaml")] = operatorMeta(certs...)

	must(os.MkdirAll(filepath.Join(*out, "reference"), 0o755))
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		n, err := writeYAML(filepath.Join(*out, name), header, files[name])
		must(err)
		fmt.Printf("%s: %d objects\n", name, n)
	}
}

// mustBeInStrategy fails when an RBAC object written per component is not part of what the
// operator's install strategy holds (a renamed or re-parameterised generator upstream).
func mustBeInStrategy(s *install.Strategy, groups ...[]runtime.Object) {
	have := map[string]bool{}
	add := func(kind, ns, name string) { have[kind+"/"+ns+"/"+name] = true }
	for _, o := range s.ServiceAccounts() {
		add("ServiceAccount", o.Namespace, o.Name)
	}
	for _, o := range s.ClusterRoles() {
		add("ClusterRole", "", o.Name)
	}
	for _, o := range s.ClusterRoleBindings() {
		add("ClusterRoleBinding", "", o.Name)
	}
	for _, o := range s.Roles() {
		add("Role", o.Namespace, o.Name)
	}
	for _, o := range s.RoleBindings() {
		add("RoleBinding", o.Namespace, o.Name)
	}
	for _, g := range groups {
		for _, o := range g {
			var kind string
			switch o.(type) {
			case *corev1.ServiceAccount:
				kind = "ServiceAccount"
			case *rbacv1.ClusterRole:
				kind = "ClusterRole"
			case *rbacv1.ClusterRoleBinding:
				kind = "ClusterRoleBinding"
			case *rbacv1.Role:
				kind = "Role"
			case *rbacv1.RoleBinding:
				kind = "RoleBinding"
			default:
				fail(fmt.Errorf("unexpected RBAC object %T", o))
			}
			m, err := meta.Accessor(o)
			must(err)
			if !have[kind+"/"+m.GetNamespace()+"/"+m.GetName()] {
				fail(fmt.Errorf("%s %s/%s is not in virt-operator's install strategy", kind, m.GetNamespace(), m.GetName()))
			}
		}
	}
}

// writeYAML writes objs as one multi-document file, each kind/namespace/name once (the
// generators return some objects twice).
func writeYAML(path, header string, objs []runtime.Object) (int, error) {
	var buf bytes.Buffer
	buf.WriteString(header)
	seen := map[string]bool{}
	for _, o := range objs {
		b, err := toYAML(o)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		m, err := meta.Accessor(o)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		key := o.GetObjectKind().GroupVersionKind().Kind + "/" + m.GetNamespace() + "/" + m.GetName()
		if seen[key] {
			continue
		}
		seen[key] = true
		buf.WriteString("---\n")
		buf.Write(b)
	}
	return len(seen), os.WriteFile(path, buf.Bytes(), 0o644)
}

// toYAML renders an object as the API server would accept it on create: apiVersion/kind set,
// no status, no zero creationTimestamp.
func toYAML(o runtime.Object) ([]byte, error) {
	if o.GetObjectKind().GroupVersionKind().Kind == "" {
		gvks, _, err := scheme.ObjectKinds(o)
		if err != nil {
			return nil, err
		}
		o.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
	j, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	u := map[string]interface{}{}
	if err := json.Unmarshal(j, &u); err != nil {
		return nil, err
	}
	unstructured.RemoveNestedField(u, "status")
	unstructured.RemoveNestedField(u, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u, "spec", "template", "metadata", "creationTimestamp")
	j, err = json.Marshal(u)
	if err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(j)
}

func must(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kubevirt-manifest-dump:", err)
	os.Exit(1)
}
