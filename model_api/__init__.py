"""What the other services need of the model, without TensorFlow: the served contract
(``contract``), its one client (``client``) and the photos' labels and split (``dataset``).

The dashboard, the explainer and the photo-pool job install this package whole; training,
export and the model server (``model/``) build on it.
"""
