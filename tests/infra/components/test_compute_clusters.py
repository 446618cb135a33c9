from infra.compute import ClusterSize, ComputeClusters, ComputeClustersArgs
from tests.infra.components.conftest import TAGS

GPU = ClusterSize(vm_size="Standard_NC4as_T4_v3", min_nodes=0, max_nodes=2, idle_seconds=300, low_priority=True)
CPU = ClusterSize(vm_size="Standard_DS3_v2", min_nodes=1, max_nodes=3, idle_seconds=900, low_priority=False)


def clusters(**changes) -> ComputeClustersArgs:
    return ComputeClustersArgs(
        **{
            **dict(
                workspace_name="mlw-unit",
                resource_group_name="rg-unit",
                location="northeurope",
                tags=TAGS,
                gpu=GPU,
                cpu=CPU,
            ),
            **changes,
        }
    )


def test_each_cluster_gets_its_size_and_scales_down(declare):
    plan = declare(lambda: ComputeClusters("ws-compute", clusters()).names)
    computes = {r.name: r for r in plan.of_type("azure-native:machinelearningservices:Compute")}
    assert set(computes) == {"ws-compute-gpu-cluster", "ws-compute-cpu-cluster"}
    gpu, cpu = computes["ws-compute-gpu-cluster"], computes["ws-compute-cpu-cluster"]
    assert (gpu.inputs["workspaceName"], gpu.inputs["resourceGroupName"], gpu.inputs["tags"]) == (
        "mlw-unit",
        "rg-unit",
        TAGS,
    )
    assert gpu.input("properties.properties.vmSize") == "Standard_NC4as_T4_v3"
    assert gpu.input("properties.properties.vmPriority") == "LowPriority"
    assert cpu.input("properties.properties.vmPriority") == "Dedicated"
    assert cpu.input("properties.properties.scaleSettings") == {
        "minNodeCount": 1,
        "maxNodeCount": 3,
        "nodeIdleTimeBeforeScaleDown": "PT900S",
    }
    assert plan.outputs == {"gpu-cluster": "gpu-cluster", "cpu-cluster": "cpu-cluster"}


def test_no_public_ip_and_no_ssh_unless_the_args_name_them(declare):
    closed = declare(lambda: ComputeClusters("c", clusters()) and None).one(
        "azure-native:machinelearningservices:Compute", "c-gpu-cluster"
    )
    assert closed.input("properties.properties.enableNodePublicIp") is False
    assert closed.input("properties.properties.remoteLoginPortPublicAccess") == "Disabled"
    assert closed.input("properties.properties.userAccountCredentials") is None

    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIUnitTestKey unit@test"
    opened = declare(lambda: ComputeClusters("c", clusters(node_public_ip=True, ssh_public_key=key)) and None).one(
        "azure-native:machinelearningservices:Compute", "c-cpu-cluster"
    )
    assert opened.input("properties.properties.enableNodePublicIp") is True
    assert opened.input("properties.properties.remoteLoginPortPublicAccess") == "Enabled"
    assert opened.input("properties.properties.userAccountCredentials.adminUserSshPublicKey") == key
